"""ROS 2 launch file for the reference skill server (the household simulator behind the robomem contract).

For machines with a full ROS 2 install (``ros2 launch`` comes from it, not from robomem):

    source /opt/ros/<distro>/setup.bash
    ros2 launch deploy/ros2/sim_robot.launch.py python:=$PWD/.venv/bin/python

``python`` must be an interpreter that can import both robomem and rclpy (see deploy/ros2/README.md).
Discovery stays on this machine unless ``localhost_only:=false``; the domain is ``$ROS_DOMAIN_ID``.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration


def generate_launch_description() -> LaunchDescription:
    arguments = {
        "python": ("python3", "interpreter with robomem and rclpy importable"),
        "namespace": ("/robomem", "namespace of the contract's topics (env.namespace on the agent side)"),
        "profile": ("alfred", "action grammar: alfred or habitat"),
        "suite": ("v1", "committed suite version or a suite JSON path"),
        "skill_delay_s": ("0.0", "seconds each skill takes (exercise timeouts and cancel)"),
        "localhost_only": ("true", "keep DDS discovery on this machine"),
    }
    config = {name: LaunchConfiguration(name) for name in arguments}
    return LaunchDescription(
        [
            *(
                DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in arguments.items()
            ),
            SetEnvironmentVariable(
                "ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST", condition=IfCondition(config["localhost_only"])
            ),
            ExecuteProcess(
                name="robomem_sim_skill_server",
                output="screen",
                cmd=[
                    config["python"],
                    "-m",
                    "envs.ros.sim_server",
                    "--namespace",
                    config["namespace"],
                    "--profile",
                    config["profile"],
                    "--suite",
                    config["suite"],
                    "--skill-delay-s",
                    config["skill_delay_s"],
                ],
            ),
        ]
    )
