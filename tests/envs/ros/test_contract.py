"""The contract's payloads, the config, task files and the lazy import: everything that needs no ROS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envs.base import Perception
from envs.registry import ENVS
from envs.ros.config import RosConfig
from envs.ros.contract import (
    ContractError,
    PerceptionMsg,
    Request,
    Response,
    SkillResult,
    decode,
    encode,
)
from envs.ros.tasks import load_task_file
from robomem.config import load_config
from robomem.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def test_payloads_round_trip_through_json() -> None:
    request = Request(id="g1", op="step", args={"action": "find a Mug"}, timeout_s=2.5)
    assert decode(Request, encode(request)) == request
    result = SkillResult(success=True, feedback="ok", skills=("a", "b"), perception_seq=3)
    response = Response(id="g1", ok=True, result=result.model_dump(mode="json"))
    back = decode(Response, encode(response))
    assert decode(SkillResult, back.result) == result


def test_decoders_ignore_unknown_keys_and_reject_bad_payloads() -> None:
    assert decode(PerceptionMsg, '{"seq": 1, "text": "hi", "future_field": 1}').text == "hi"
    # Inside the perception object too (robomem's own Perception model is strict).
    wire = {
        "seq": 2,
        "perception": {
            "location": "Kitchen",
            "frame_id": "map",
            "entities": [{"name": "Mug_1", "type": "Mug", "kind": "object", "confidence": 0.9}],
            "relations": [{"subject": "Mug_1", "relation": "on", "object": "Table", "since": 3}],
        },
    }
    perception = decode(PerceptionMsg, json.dumps(wire)).perception
    assert perception is not None and perception.location == "Kitchen"
    assert perception.entities[0].name == "Mug_1" and perception.relations[0].object == "Table"
    with pytest.raises(ContractError, match=r"PerceptionMsg: perception.entities.0.kind"):
        decode(
            PerceptionMsg, json.dumps({"seq": 3, "perception": {"entities": [{"name": "x", "type": "X"}]}})
        )
    with pytest.raises(ContractError, match="not JSON"):
        decode(Request, "{nope")
    with pytest.raises(ContractError, match="expected a JSON object"):
        decode(Request, "[1, 2]")
    with pytest.raises(ContractError, match="Request: op"):
        decode(Request, json.dumps({"id": "g", "op": "fly"}))


def test_config_normalises_the_namespace_and_rejects_bad_ones() -> None:
    assert RosConfig(namespace="robomem/arm_1/").namespace == "/robomem/arm_1"
    with pytest.raises(ValueError, match="not a ROS namespace"):
        RosConfig(namespace="/robo-mem")


def test_the_preset_loads_and_ros_is_registered() -> None:
    cfg = load_config(ROOT / "configs" / "ros_robot.yaml")
    assert isinstance(cfg.env, RosConfig)
    assert "ros" in ENVS


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_registering_never_imports_rclpy() -> None:
    done = _python("import sys, envs.registry, robomem.config; print('rclpy' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_building_without_rclpy_names_the_extra() -> None:
    # `sys.modules[name] = None` makes that import fail as if the package were not installed.
    code = (
        "import sys\n"
        "sys.modules['rclpy'] = None\n"
        "from envs.registry import ENVS\n"
        "from envs.ros.config import RosConfig\n"
        "from envs.ros.participant import RosNotInstalledError\n"
        "try:\n"
        "    ENVS.build(RosConfig())\n"
        "except RosNotInstalledError as err:\n"
        "    print(err.code, err)\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("install ")
    assert "robomem[ros]" in done.stdout


def test_task_files_in_yaml_and_json(tmp_path: Path) -> None:
    entry = {"task_id": "k1", "instruction": "Put the apple in the fridge.", "scene": "flat_3"}
    (tmp_path / "tasks.yaml").write_text("subsets:\n  kitchen:\n    - " + json.dumps(entry) + "\n")
    (tmp_path / "tasks.json").write_text(json.dumps({"subsets": {"kitchen": [entry]}}))
    for name in ("tasks.yaml", "tasks.json"):
        tasks = load_task_file(tmp_path / name).tasks("kitchen", "alfred")
        assert [(t.task_id, t.scene, t.profile, t.subset, t.task_type) for t in tasks] == [
            ("k1", "flat_3", "alfred", "kitchen", "custom")
        ]


def test_bad_task_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read task file"):
        load_task_file(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("subsets:\n  kitchen:\n    - task_id: k1\n")
    with pytest.raises(ConfigError, match=r"subsets\.kitchen\.0\.instruction"):
        load_task_file(tmp_path / "bad.yaml")
    (tmp_path / "ok.yaml").write_text("subsets:\n  kitchen:\n    - {task_id: k, instruction: i, scene: s}\n")
    with pytest.raises(ConfigError, match="unknown subset 'garden'"):
        load_task_file(tmp_path / "ok.yaml").tasks("garden", "alfred")


@pytest.mark.parametrize(
    ("holding", "held"),
    [
        ("Mug_1", ("Mug_1",)),
        (["Mug_1"], ("Mug_1",)),
        ({"name": "Mug_1", "type": "Mug"}, ("Mug_1",)),
        ([{"name": "Mug_1"}], ("Mug_1",)),
        (None, ()),
        ("", ()),
        ([], ()),
        # An inventory: a list of several means the robot holds all of them (it used to be rejected).
        (["Mug_1", "Spoon_1"], ("Mug_1", "Spoon_1")),
        ([{"name": "Mug_1"}, "Spoon_1", "Mug_1"], ("Mug_1", "Spoon_1")),
    ],
)
def test_the_hand_in_any_reasonable_form(holding: object, held: tuple[str, ...]) -> None:
    wire = {
        "seq": 1,
        "perception": {"location": "Table", "holding": holding, "entities": [], "relations": []},
    }
    perception = decode(PerceptionMsg, json.dumps(wire)).perception
    assert perception is not None
    assert (perception.holding, perception.knows("holding")) == (held, True)
    assert perception.unknown == ("room",)


def test_absent_perception_fields_are_unknown_not_empty() -> None:
    perception = decode(PerceptionMsg, '{"seq": 1, "perception": {"location": "Table"}}').perception
    assert perception is not None
    assert perception.unknown == ("room", "holding", "entities", "relations")
    assert perception.knows("location") and not perception.knows("holding")
    # null means "not reported" where it can mean nothing else; for the place it means "at no place".
    wire = {"location": None, "room": None, "holding": None, "entities": None, "relations": None}
    perception = decode(PerceptionMsg, json.dumps({"seq": 2, "perception": wire})).perception
    assert perception is not None
    assert perception.unknown == ("room", "entities", "relations")
    assert perception.knows("location") and perception.knows("holding")
    # A server sends what it knows and nothing for the rest; robomem reads back the same perception.
    partial = Perception(location="Table", entities=(), unknown=("holding", "room"))
    text = encode(PerceptionMsg(seq=3, perception=partial))
    assert "holding" not in json.loads(text)["perception"]
    assert decode(PerceptionMsg, text).perception == partial


def test_entity_attributes_may_be_numbers_and_a_bad_hand_is_named() -> None:
    entity = {"name": "Mug_1", "type": "Mug", "kind": "object", "attributes": {"volume_ml": 350, "wet": True}}
    wire = {"seq": 1, "perception": {"entities": [entity]}}
    perception = decode(PerceptionMsg, json.dumps(wire)).perception
    assert perception is not None
    assert perception.entities[0].attributes == {"volume_ml": "350", "wet": "true"}
    bad = {"seq": 1, "perception": {"holding": ["Mug_1", 3]}}
    with pytest.raises(
        ContractError, match=r"^PerceptionMsg: perception: holding: expected the held thing's name, null"
    ):
        decode(PerceptionMsg, json.dumps(bad))
    with pytest.raises(ContractError, match="holding: expected the held thing's name"):
        decode(PerceptionMsg, json.dumps({"seq": 1, "perception": {"holding": 3}}))
