"""The skill-server contract as data: topic names and the JSON payloads both sides exchange.

Every topic carries ``std_msgs/String`` holding one JSON object (camera frames excepted:
``sensor_msgs/CompressedImage``), so neither side compiles custom messages. deploy/ros2/CONTRACT.md is the
prose version of this module. Decoders ignore unknown keys, so a newer server can add fields.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from envs.base import PERCEPTION_FIELDS, PerceivedEntity, Perception, Relation
from envs.task import LifelongSequence, Task

__all__ = (
    "CONTRACT_VERSION",
    "OPS",
    "Cancel",
    "ContractError",
    "Describe",
    "ErrorBody",
    "ErrorKind",
    "Heartbeat",
    "Op",
    "PerceptionMsg",
    "PerturbResult",
    "Request",
    "ResetResult",
    "Response",
    "SequencesResult",
    "SkillResult",
    "Stop",
    "TasksResult",
    "Topic",
    "decode",
    "encode",
    "perception_from_wire",
    "perception_to_wire",
)

CONTRACT_VERSION = 1

Op = Literal["reset", "step", "tasks", "lifelong", "perturb"]
#: Every request operation; a server lists the ones it serves in ``describe.ops`` (reset and step always).
OPS: tuple[Op, ...] = ("reset", "step", "tasks", "lifelong", "perturb")
ErrorKind = Literal["bad_request", "busy", "cancelled", "stopped", "unsupported", "internal"]


class Topic:
    """Topic names, relative to the namespace (``/robomem`` by default)."""

    REQUEST = "request"  # client -> server, reliable
    RESPONSE = "response"  # server -> client, reliable
    CANCEL = "cancel"  # client -> server, reliable
    STOP = "stop"  # client -> server, reliable
    DESCRIBE = "describe"  # server -> client, reliable + transient local (latched), depth 1
    HEARTBEAT = "heartbeat"  # server -> client, best effort
    PERCEPTION = "perception"  # server -> client, reliable + transient local (latched), depth 1
    CAMERA = "camera/compressed"  # server -> client, sensor_msgs/CompressedImage, best effort


class ContractError(ValueError):
    """A message that is not valid JSON or does not match its payload model."""


class _Msg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Request(_Msg):
    #: Goal id, unique per request; the response, a cancel and the server's heartbeat refer to it.
    id: str = Field(min_length=1, max_length=128)
    op: Op
    args: dict[str, Any] = Field(default_factory=dict)
    #: The client cancels the goal after this long (informative for the server).
    timeout_s: float | None = None


class ErrorBody(_Msg):
    code: ErrorKind
    message: str = ""


class Response(_Msg):
    id: str
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)
    error: ErrorBody | None = None


class Cancel(_Msg):
    id: str


class Stop(_Msg):
    """Halt the robot now: abort the running skill (answered ``stopped``). Not a latch."""

    reason: str = ""


class Describe(_Msg):
    contract: int
    #: Changes whenever the server process restarts; in-flight goals of the old one are lost.
    server_id: str
    robot: str = ""
    profile: str
    ops: tuple[str, ...] = ("reset", "step")
    subsets: tuple[str, ...] = ()
    images: bool = False
    heartbeat_period_s: float = 0.2


class Heartbeat(_Msg):
    server_id: str
    seq: int
    #: The goal being executed, if any.
    busy: str | None = None


class PerceptionMsg(_Msg):
    """What the robot perceives now; ``seq`` grows by one with every message."""

    seq: int
    text: str = ""
    perception: Perception | None = None

    @field_validator("perception", mode="before")
    @classmethod
    def _from_wire(cls, value: object) -> object:
        return perception_from_wire(value)

    @field_serializer("perception")
    def _to_wire(self, perception: Perception | None) -> dict[str, Any] | None:
        return None if perception is None else perception_to_wire(perception)


#: Fields whose ``null`` means "not reported" (for ``location`` null means "at no place", for ``holding``
#: "nothing is held").
_NULL_IS_UNKNOWN = frozenset({"room", "entities", "relations"})


def perception_from_wire(value: object) -> object:
    """The wire's ``perception`` object as :class:`Perception` fields: keys robomem does not know are
    dropped (a detector's score), absent fields become ``unknown``, and the accepted variants (CONTRACT.md)
    are normalised. Raises ``ValueError`` naming the field for what cannot be read."""
    known = _known_keys(value, Perception)
    if not isinstance(known, dict):
        return known  # null, a Perception already, or not an object: the model says why
    data = {k: v for k, v in known.items() if k != "unknown"}  # robomem's own bookkeeping, not the wire's
    for name in ("location", "room"):
        if data.get(name) == "":
            data[name] = None
    unknown = [
        name
        for name in PERCEPTION_FIELDS
        if name not in data or (data[name] is None and name in _NULL_IS_UNKNOWN)
    ]
    for name in unknown:
        data.pop(name, None)
    if "holding" in data:
        data["holding"] = _held(data["holding"])
    entities = data.get("entities")
    if isinstance(entities, list):
        data["entities"] = [_with_string_attributes(e) for e in entities]
    data["unknown"] = unknown
    return data


def perception_to_wire(perception: Perception) -> dict[str, Any]:
    """What a server sends: every reported field, nothing for an unreported one."""
    data = perception.model_dump(mode="json", exclude={"unknown"})
    return {k: v for k, v in data.items() if perception.knows(k)}  # type: ignore[arg-type]


def _known_keys(value: object, model: type[BaseModel]) -> object:
    # robomem's Perception is strict; on the wire, keys a robot adds (a detector's score) are dropped.
    if not isinstance(value, dict):
        return value
    nested: dict[str, type[BaseModel]] = {"entities": PerceivedEntity, "relations": Relation}
    known: dict[str, object] = {}
    for key, item in value.items():
        if key not in model.model_fields:
            continue
        if key in nested and isinstance(item, list):
            item = [_known_keys(part, nested[key]) for part in item]
        known[key] = item
    return known


def _held(value: object) -> tuple[str, ...]:
    """``holding`` as the inventory's names: a name, null, "" or [] (empty hand), an entity object with a
    ``name``, or a list of names or entity objects (everything the robot holds; its limit is its own)."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            item = item["name"]
        if item is None or item == "":
            continue
        if not isinstance(item, str):
            raise ValueError(
                f"holding: expected the held thing's name, null, an entity object or a list of those, "
                f"got {type(item).__name__}"
            )
        if item not in names:
            names.append(item)
    return tuple(names)


def _with_string_attributes(entity: object) -> object:
    """Attribute values are strings in robomem; a robot's numbers and booleans are taken as their text."""
    if not isinstance(entity, dict) or not isinstance(entity.get("attributes"), dict):
        return entity
    attributes = {
        k: (json.dumps(v) if isinstance(v, bool) else str(v)) if isinstance(v, int | float) else v
        for k, v in entity["attributes"].items()
    }
    return {**entity, "attributes": attributes}


class ResetResult(_Msg):
    skills: tuple[str, ...]
    #: The first perception message that shows the reset world (the client waits for it).
    perception_seq: int | None = None


class SkillResult(_Msg):
    success: bool
    feedback: str
    done: bool = False
    task_success: float = 0.0
    task_progress: float = 0.0
    #: The skill list, when the skill changed it; otherwise the list from the last reset still holds.
    skills: tuple[str, ...] | None = None
    perception_seq: int | None = None


class TasksResult(_Msg):
    tasks: tuple[Task, ...]


class SequencesResult(_Msg):
    sequences: tuple[LifelongSequence, ...]


class PerturbResult(_Msg):
    moves: tuple[str, ...]


M = TypeVar("M", bound=BaseModel)


def encode(message: BaseModel) -> str:
    return json.dumps(message.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def decode(model: type[M], text: str | dict[str, Any]) -> M:
    """Parse one payload (JSON text, or a ``result`` dict already parsed); raise :class:`ContractError`."""
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as err:
        raise ContractError(f"{model.__name__}: not JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise ContractError(f"{model.__name__}: expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        reason = first["msg"].removeprefix("Value error, ")  # a validator's own message names the field
        raise ContractError(f"{model.__name__}: {where}: {reason}") from None
