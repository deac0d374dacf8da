"""The client env against the reference skill server in another process, over real ROS 2 (DDS on
loopback): discovery, suites, reset/step with perception and camera frames, a timed-out skill that is
cancelled, a stop on close, and no server at all."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from envs.base import EnvCapabilities
from envs.ros.config import RosConfig
from envs.ros.contract import CONTRACT_VERSION, Describe, Heartbeat, Response, Topic, decode
from envs.ros.env import RosEnv
from envs.ros.participant import Participant
from robomem.config import load_config
from robomem.errors import ConfigError, EnvAdapterError, EnvConnectionError, EnvTimeoutError
from robomem.eval.harness import plan_episodes
from tests.envs.ros.conftest import ROOT, StartServer, StopListener

pytestmark = pytest.mark.ros


def test_reset_step_and_close_over_ros(start_server: StartServer, stop_listener: type[StopListener]) -> None:
    server = start_server("--camera")
    listener = stop_listener(server.namespace)
    env = RosEnv(RosConfig(namespace=server.namespace, images=True, connect_timeout_s=30))
    try:
        assert env.profile == "alfred"
        assert env.server.contract == 1
        assert "base" in env.subsets()
        assert env.capabilities() == EnvCapabilities(tasks=True, lifelong=True, perturb=True, budget=True)
        task = env.tasks("base")[0]
        observation = env.reset(task)
        assert observation.instruction == task.instruction
        assert observation.perception is not None
        assert observation.text.startswith("You are in")
        assert base64.b64decode(observation.images[0]).startswith(b"\x89PNG")
        skills = env.skills
        assert skills

        result = env.step(skills[0])
        assert result.info["last_action_success"] is True
        assert result.info["env_step"] == 1
        assert result.info["action_description"] == skills[0]

        # An action outside the skill list never reaches the robot: an invalid action, not a step (as
        # EmbodiedBench, the household simulator and the bridge count it).
        bad = env.step("fly to the moon")
        assert bad.info["last_action_success"] is False
        assert bad.info["action_id"] == -1
        assert bad.info["num_invalid_actions"] == 1
        assert bad.info["env_step"] == 1

        # The simulator also serves lifelong runs: its sequences, and "someone else" moving things.
        assert env.lifelong_sequences()
        moves = env.perturb(2, seed=7)
        assert len(moves) == 2
        assert " moved from " in moves[0]
        listener.wait_matched(1, timeout_s=60)  # discovery is not instant; a stop before it would be lost
    finally:
        env.close()
    env.close()  # twice is fine
    assert listener.wait_for(1, timeout_s=10) == ["client closing"]
    assert server.wait_for_line("STOP received: client closing", timeout_s=10)
    with pytest.raises(EnvAdapterError, match="closed"):
        env.reset(task)


def test_a_skill_past_its_timeout_is_cancelled_and_the_next_one_runs(start_server: StartServer) -> None:
    server = start_server("--skill-delay-s", "1.5")
    with RosEnv(RosConfig(namespace=server.namespace, connect_timeout_s=30)) as env:
        assert isinstance(env, RosEnv)
        env.reset(env.tasks("base")[0])
        skill = env.skills[0]
        with pytest.raises(EnvTimeoutError, match=r"did not finish within 0\.3 s; it was cancelled"):
            env.step(skill, timeout_s=0.3)
        result = env.step(skill, timeout_s=30)  # the server is free again
        assert result.info["last_action_success"] is True
        # The timed-out skill was a failed step: it counts toward the episode's limits.
        assert (result.info["env_step"], result.info["num_invalid_actions"]) == (2, 1)


def test_no_server_is_a_connection_error_within_the_timeout(ros_env: dict[str, str]) -> None:
    started = time.monotonic()
    with pytest.raises(EnvConnectionError, match="no skill server on '/robomem_nobody_here'"):
        RosEnv(RosConfig(namespace="/robomem_nobody_here", connect_timeout_s=1.0))
    assert time.monotonic() - started < 30  # generous: the limit is 1 s plus ROS start-up


def test_a_half_written_server_is_told_what_it_misses(ros_env: dict[str, str]) -> None:
    # A skill server that only announces itself (a robot builder's first attempt): the error names the
    # parts of the contract that never showed up.
    namespace = f"/robomem_half_{uuid.uuid4().hex[:8]}"
    half = Participant("half_server", namespace, None)
    try:
        describe = Describe(contract=CONTRACT_VERSION, server_id="half", profile="alfred")
        half.json_publisher(Topic.DESCRIBE, "latched").publish(describe)
        half.json_subscription(Topic.REQUEST, "command", lambda _text: None)
        half.start()
        with pytest.raises(EnvConnectionError) as caught:
            RosEnv(RosConfig(namespace=namespace, connect_timeout_s=15.0))  # ample for discovery
    finally:
        half.close()
    message = str(caught.value)
    assert "it announced itself, but no heartbeat" in message
    assert "nothing subscribes to 'cancel'" in message
    assert "nothing publishes on 'response'" in message
    assert "'request'" not in message  # that part is there


def test_the_reference_server_answers_requests_it_cannot_serve(start_server: StartServer) -> None:
    server = start_server()
    client = Participant("raw_client", server.namespace, None)
    answers: list[Response] = []
    try:
        raw = client.node.create_publisher(client.ros.String, Topic.REQUEST, client.qos("command"))
        responses = client.json_subscription(
            Topic.RESPONSE, "command", lambda text: answers.append(decode(Response, text))
        )
        client.start()
        deadline = time.monotonic() + 30
        while raw.get_subscription_count() == 0 or responses.publishers() == 0:  # matched both ways
            assert time.monotonic() < deadline, "the server was not discovered"
            time.sleep(0.05)
        for text in ('{"id": "g1", "op": "dance"}', '{"id": "g2", "op": "step", "args": 3}', "{nope"):
            message = client.ros.String()
            message.data = text
            raw.publish(message)
        deadline = time.monotonic() + 10
        while len(answers) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.close()
    codes = {a.id: (a.ok, a.error.code if a.error else None) for a in answers}
    # "{nope" has no id to answer.
    assert codes == {"g1": (False, "unsupported"), "g2": (False, "bad_request")}


@contextmanager
def _minimal_robot(contract: int = CONTRACT_VERSION) -> Iterator[str]:
    """The smallest server a robot builder writes first: describe (reset and step only), heartbeats, and the
    request / cancel / response endpoints; it answers nothing. Yields its namespace."""
    namespace = f"/robomem_robot_{uuid.uuid4().hex[:8]}"
    robot = Participant("minimal_robot", namespace, None)
    try:
        robot.json_publisher(Topic.DESCRIBE, "latched").publish(
            Describe(contract=contract, server_id="robot", profile="alfred")
        )
        beat = robot.json_publisher(Topic.HEARTBEAT, "stream")
        robot.create_timer(0.2, lambda: beat.publish(Heartbeat(server_id="robot", seq=1)))
        robot.json_subscription(Topic.REQUEST, "command", lambda _text: None)
        robot.json_subscription(Topic.CANCEL, "command", lambda _text: None)
        robot.json_publisher(Topic.RESPONSE, "command")
        robot.start()
        yield namespace
    finally:
        robot.close()


def test_a_robot_without_suites_takes_its_tasks_from_a_file(ros_env: dict[str, str], tmp_path: Path) -> None:
    # Listing tasks is the client's job: the robot never has to answer here.
    with _minimal_robot() as namespace:
        no_file = pytest.raises(ConfigError, match=r"env.tasks_file: the skill server has no task suites")
        with RosEnv(RosConfig(namespace=namespace, connect_timeout_s=30)) as env, no_file:
            # What the robot offers is declared, from its `describe`: nothing optional but the budget.
            assert env.capabilities() == EnvCapabilities(budget=True)
            env.subsets()
        tasks = tmp_path / "tasks.yaml"
        tasks.write_text(
            "subsets:\n  kitchen:\n    - {task_id: k1, instruction: Put the mug away., scene: flat_1}\n",
            encoding="utf-8",
        )
        with RosEnv(RosConfig(namespace=namespace, connect_timeout_s=30, tasks_file=str(tasks))) as env:
            assert env.capabilities() == EnvCapabilities(tasks=True, budget=True)
            assert env.subsets() == ("kitchen",)
            assert [t.task_id for t in env.tasks("kitchen")] == ["k1"]
            # The preset selects no subset: the task file's run, whatever they are called.
            cfg = load_config(ROOT / "configs" / "ros_robot.yaml", [f"env.tasks_file={tasks}"])
            assert isinstance(env, RosEnv)
            subsets, episodes = plan_episodes(cfg, env)
            assert subsets == ("kitchen",)
            assert [e.task.task_id for e in episodes] == ["k1"]


def test_a_server_of_another_contract_version_is_refused(ros_env: dict[str, str]) -> None:
    with (
        _minimal_robot(contract=CONTRACT_VERSION + 1) as namespace,
        pytest.raises(EnvConnectionError) as caught,
    ):
        RosEnv(RosConfig(namespace=namespace, connect_timeout_s=30))
    assert f"speaks contract version {CONTRACT_VERSION + 1}, robomem speaks {CONTRACT_VERSION}" in str(
        caught.value
    )


def test_camera_frames_keep_their_image_type(ros_env: dict[str, str]) -> None:
    namespace = f"/robomem_camera_{uuid.uuid4().hex[:8]}"
    camera, viewer = Participant("camera", namespace, None), Participant("viewer", namespace, None)
    frames: list[str] = []
    try:
        publisher = camera.image_publisher(Topic.CAMERA)
        viewer.image_subscription(Topic.CAMERA, frames.append)
        camera.start()
        viewer.start()
        deadline = time.monotonic() + 30
        jpeg, png = b"\xff\xd8\xff\xe0 a jpeg", b"\x89PNG a png"
        while not ({f.startswith("data:image/jpeg;base64,") for f in frames} >= {True, False}):
            assert time.monotonic() < deadline, f"frames seen: {frames[:4]}"
            publisher.publish(jpeg, fmt="jpeg")
            time.sleep(0.05)
            publisher.publish(png, fmt="png")  # best effort, keep last 1: either may be dropped
            time.sleep(0.05)
    finally:
        viewer.close()
        camera.close()
    assert f"data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}" in frames
    assert base64.b64encode(png).decode() in frames  # PNG frames stay plain base64
