"""A skill server written from CONTRACT.md by someone else (here: in the test, a real rclpy participant) that
reports the hand its own way. The full agent (``configs/ros_robot.yaml``, an LLM planner from a scripted
server, the deterministic critic, the task file's subset) puts the mug in the sink whether ``holding`` comes
as a list or not at all; a message robomem cannot read is rejected with the reason, and the step's timeout
error names it."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from envs.ros.config import RosConfig
from envs.ros.contract import CONTRACT_VERSION, Describe, Heartbeat, Topic
from envs.ros.env import RosEnv
from envs.ros.participant import Participant
from envs.task import Task
from robomem.cli.main import main
from robomem.errors import EnvConnectionError
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer
from tests.envs.ros.conftest import ROOT

pytestmark = pytest.mark.ros

SKILLS = ("find a Mug", "pick up the Mug", "find a Sink", "put down the object in hand")
TASKS = "subsets:\n  kitchen:\n    - {task_id: k1, instruction: Put the mug in the sink., scene: flat_1}\n"


class KitchenRobot:
    """A mug on the counter, a sink. ``hand`` is how the robot reports what it holds: ``list`` (``[]`` or
    ``["Mug"]``), ``omitted`` (never), ``pair`` (a list of two: nothing robomem can read)."""

    def __init__(self, namespace: str, hand: str) -> None:
        self.hand = hand
        self.at: str | None = None
        self.held = False
        self.mug_in: str | None = "CounterTop"
        self.seq = 0
        self.server_id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self.participant = p = Participant("kitchen_robot", namespace, None)
        try:
            string = p.ros.String
            self._response = p.node.create_publisher(string, Topic.RESPONSE, p.qos("command"))
            self._perception = p.node.create_publisher(string, Topic.PERCEPTION, p.qos("latched"))
            p.json_subscription(Topic.REQUEST, "command", self._on_request)
            p.json_subscription(Topic.CANCEL, "command", lambda _text: None)
            beat = p.json_publisher(Topic.HEARTBEAT, "stream")
            p.create_timer(0.2, lambda: beat.publish(Heartbeat(server_id=self.server_id, seq=1)))
            p.json_publisher(Topic.DESCRIBE, "latched").publish(
                Describe(
                    contract=CONTRACT_VERSION,
                    server_id=self.server_id,
                    robot="test kitchen",
                    profile="alfred",
                )
            )
            p.start()
        except BaseException:
            p.close()
            raise

    def _send(self, publisher: Any, payload: dict[str, Any]) -> None:
        message = self.participant.ros.String()
        message.data = json.dumps(payload)
        publisher.publish(message)

    def _publish_perception(self) -> int:
        self.seq += 1
        entities: list[dict[str, Any]] = [
            {"name": "CounterTop", "type": "CounterTop", "kind": "receptacle"},
            {"name": "Sink", "type": "Sink", "kind": "receptacle"},
        ]
        relations = []
        if self.held or self.mug_in == self.at:
            entities.append(
                {"name": "Mug", "type": "Mug", "kind": "object", "attributes": {"color": "white"}}
            )
        if self.mug_in is not None and self.mug_in == self.at:
            relations.append({"subject": "Mug", "relation": "in", "object": self.mug_in})
        perception: dict[str, Any] = {
            "location": self.at,
            "room": "Kitchen",
            "entities": entities,
            "relations": relations,
        }
        if self.hand == "list":
            perception["holding"] = ["Mug"] if self.held else []
        elif self.hand == "number":
            perception["holding"] = 3  # not a name: the message is rejected
        text = f"I am at the {self.at or 'door'}."
        self._send(self._perception, {"seq": self.seq, "text": text, "perception": perception})
        return self.seq

    def _act(self, action: str) -> tuple[bool, str]:
        if action == "find a Mug":
            self.at = self.mug_in or self.at
        elif action == "find a Sink":
            self.at = "Sink"
        elif action == "pick up the Mug":
            if self.held or self.mug_in != self.at:
                return False, "The Mug is not within reach."
            self.held, self.mug_in = True, None
        elif action == "put down the object in hand":
            if not self.held:
                return False, "The hand is empty."
            self.held, self.mug_in = False, self.at
        return True, "Done."

    def _on_request(self, text: str) -> None:
        request = json.loads(text)
        with self._lock:
            if request["op"] == "reset":
                self.at, self.held, self.mug_in = None, False, "CounterTop"
                result: dict[str, Any] = {
                    "skills": list(SKILLS),
                    "perception_seq": self._publish_perception(),
                }
            else:
                success, feedback = self._act(request["args"]["action"])
                done = self.mug_in == "Sink"
                result = {
                    "success": success,
                    "feedback": feedback,
                    "done": done,
                    "task_success": 1.0 if done else 0.0,
                    "perception_seq": self._publish_perception(),
                }
        self._send(self._response, {"id": request["id"], "ok": True, "result": result})

    def close(self) -> None:
        self.participant.close()


@contextmanager
def kitchen_robot(hand: str) -> Iterator[KitchenRobot]:
    robot = KitchenRobot(f"/robomem_kitchen_{uuid.uuid4().hex[:8]}", hand)
    try:
        yield robot
    finally:
        robot.close()


def _plan(request: RecordedRequest) -> str:
    """The whole plan, every time (as a model that does not change its mind would)."""
    ids = {name: int(i) for i, name in re.findall(r"action id (\d+): ([^\n]+)\n", request.all_text)}
    plan = [{"action_id": ids[name], "action_name": name} for name in SKILLS]
    return json.dumps({"reasoning_and_reflection": "", "language_plan": "", "executable_plan": plan})


@pytest.mark.parametrize("hand", ["list", "omitted"])
def test_the_agent_reads_the_hand_however_the_robot_reports_it(
    hand: str, tmp_path: Path, ros_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(TASKS, encoding="utf-8")
    run_dir = tmp_path / "run"
    monkeypatch.chdir(ROOT)
    with kitchen_robot(hand) as robot, ScriptedLLMServer([Rule(role="planner", reply=_plan)]) as llm:
        code = main(
            [
                "eval",
                "--config",
                "configs/ros_robot.yaml",  # selects no subset: the task file's 'kitchen' runs
                "--episodes",
                "1",
                "--no-progress",
                "--run-dir",
                str(run_dir),
                f"env.namespace={robot.participant.node.get_namespace()}",
                f"env.tasks_file={tasks}",
                "env.connect_timeout_s=60",
                "env.max_steps=8",
                "agent.planner.type=llm",  # the critic stays the deterministic one
                f"agent.llm.base_url={llm.base_url}",
                "agent.llm.model=scripted",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
            ]
        )
    assert code == 0
    record = json.loads((run_dir / "kitchen" / "results" / "episode_1_final_res.json").read_text())
    assert "error" not in record, record["error"]
    # Four skills, none wasted: a hand the robot does not report is not an empty one, so the critic lets
    # "put down" through after the pick (it used to block it as "not holding anything").
    assert (record["task_success"], record["num_steps"]) == (1.0, 4)
    # One plan, never rejected; and what the thalamus told memory claims no hand the robot did not report.
    (prompt,) = [r.all_text for r in llm.chat_requests if r.role == "planner"]
    assert "[step 0] Started the task 'Put the mug in the sink.'. I am in the Kitchen." in prompt
    assert ("My hand is empty." in prompt) == (hand == "list")


def test_a_rejected_perception_is_named_in_the_timeout_error(
    ros_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    task = Task(
        task_id="k1", profile="alfred", subset="kitchen", task_type="custom", instruction="-", scene="s"
    )
    with (
        kitchen_robot("number") as robot,
        RosEnv(
            RosConfig(
                namespace=robot.participant.node.get_namespace(), connect_timeout_s=60, perception_timeout_s=3
            )
        ) as env,
        pytest.raises(EnvConnectionError) as caught,
    ):
        env.reset(task)
    reason = "holding: expected the held thing's name, null, an entity object or a list of those, got int"
    assert "no perception (seq 1) within 3 s" in str(caught.value)
    assert f"the last perception message was rejected: PerceptionMsg: perception: {reason}" in str(
        caught.value
    )
    assert any(reason in r.getMessage() and "'perception'" in r.getMessage() for r in caplog.records)
