"""The spatial graph's value types: stamps, node and edge data, history records, and what retrieval returns.

All are frozen, so the resolver can work on a cheap copy of the local subgraph and hand back new values; all
round-trip exactly through JSON (floats keep ``repr`` precision), which is how SQLite stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = (
    "PROVENANCE_RANK",
    "Belief",
    "EdgeData",
    "HistoryRecord",
    "NodeData",
    "NodeState",
    "Provenance",
    "SpatialRecall",
    "Stamp",
    "StateData",
)

Provenance = Literal["observed", "inferred", "reported"]
#: Same-step precedence: the robot's own sensors beat what it inferred from its action, which beats text.
PROVENANCE_RANK: dict[str, int] = {"observed": 2, "inferred": 1, "reported": 0}


@dataclass(frozen=True, order=True)
class Stamp:
    """When something was seen: the site's episode ordinal and the step (ordered by these two), plus the
    episode id and the injected clock's time for the record."""

    episode: int
    step: int
    episode_id: str = field(default="", compare=False)
    time: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"episode": self.episode, "step": self.step, "episode_id": self.episode_id, "time": self.time}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Stamp:
        return cls(int(raw["episode"]), int(raw["step"]), str(raw["episode_id"]), float(raw["time"]))

    def short(self) -> str:
        return f"ep{self.episode}/step{self.step}"


@dataclass(frozen=True)
class StateData:
    """One perceivable state (``open``, ``on``, ``sliced``): a single value per node, with its history kept
    as history records rather than as value nodes (which would become hubs)."""

    value: bool
    since: Stamp
    last_seen: Stamp
    provenance: Provenance = "observed"

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "since": self.since.to_json(),
            "last_seen": self.last_seen.to_json(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StateData:
        return cls(
            bool(raw["value"]),
            Stamp.from_json(raw["since"]),
            Stamp.from_json(raw["last_seen"]),
            _provenance(raw["provenance"]),
        )


@dataclass(frozen=True)
class NodeData:
    """A vertex: an object, receptacle, appliance, place (room) or the agent."""

    type: str
    kind: str
    first_seen: Stamp
    last_seen: Stamp
    attributes: Mapping[str, str] = field(default_factory=dict)
    states: Mapping[str, StateData] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kind": self.kind,
            "first_seen": self.first_seen.to_json(),
            "last_seen": self.last_seen.to_json(),
            "attributes": dict(self.attributes),
            "states": {k: v.to_json() for k, v in self.states.items()},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> NodeData:
        return cls(
            type=str(raw["type"]),
            kind=str(raw["kind"]),
            first_seen=Stamp.from_json(raw["first_seen"]),
            last_seen=Stamp.from_json(raw["last_seen"]),
            attributes={str(k): str(v) for k, v in raw["attributes"].items()},
            states={str(k): StateData.from_json(v) for k, v in raw["states"].items()},
        )


@dataclass(frozen=True)
class EdgeData:
    """A typed directed relation ``subject --relation--> object`` (the relation is the multigraph key)."""

    provenance: Provenance
    confidence: float
    first_seen: Stamp
    last_seen: Stamp
    #: Last negative-evidence hit, so one visit to a place weakens a belief only once.
    weakened_at: Stamp | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "confidence": self.confidence,
            "first_seen": self.first_seen.to_json(),
            "last_seen": self.last_seen.to_json(),
            "weakened_at": None if self.weakened_at is None else self.weakened_at.to_json(),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> EdgeData:
        weakened = raw.get("weakened_at")
        return cls(
            provenance=_provenance(raw["provenance"]),
            confidence=float(raw["confidence"]),
            first_seen=Stamp.from_json(raw["first_seen"]),
            last_seen=Stamp.from_json(raw["last_seen"]),
            weakened_at=None if weakened is None else Stamp.from_json(weakened),
        )


HistoryKind = Literal["edge", "state", "node"]


@dataclass(frozen=True)
class HistoryRecord:
    """Something that stopped being believed: a superseded or retired edge (``subject relation object``), a
    state value that changed (``node state old_value``), or a forgotten node (``node "" ""``).
    ``data`` is the retired value's JSON (edge, node or state data)."""

    kind: HistoryKind
    subject: str
    relation: str
    object: str
    at: Stamp
    reason: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.to_json(), "reason": self.reason, "data": dict(self.data)}

    @classmethod
    def from_row(
        cls, kind: str, subject: str, relation: str, obj: str, raw: Mapping[str, Any]
    ) -> HistoryRecord:
        if kind not in ("edge", "state", "node"):
            raise ValueError(f"unknown history kind {kind!r}")
        return cls(kind, subject, relation, obj, Stamp.from_json(raw["at"]), str(raw["reason"]), raw["data"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Belief:
    """One retrieved relation, for programmatic consumers (the symbolic planner)."""

    subject: str
    relation: str
    object: str
    confidence: float
    provenance: Provenance
    first_seen: Stamp
    last_seen: Stamp
    #: Hops from the nearest seed node (0: the relation touches a seed).
    hop: int = 0


@dataclass(frozen=True)
class NodeState:
    """One retrieved node: its type, perceivable states (``{"open": False}`` for a closed fridge) and visual
    attributes (``{"color": "red"}``), so a planner can resolve "the red mug" from memory."""

    node: str
    type: str
    kind: str
    states: Mapping[str, bool]
    last_seen: Stamp
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SpatialRecall:
    """``StoreResult.data`` of spatial memory: every retrieved belief, and every retrieved node with its
    type, states and attributes (the text lines are the budget-cut rendering of the same beliefs)."""

    site: str
    seeds: tuple[str, ...]
    beliefs: tuple[Belief, ...]
    states: tuple[NodeState, ...]


def _provenance(raw: object) -> Provenance:
    if raw == "observed":
        return "observed"
    if raw == "inferred":
        return "inferred"
    if raw == "reported":
        return "reported"
    raise ValueError(f"unknown provenance {raw!r}")
