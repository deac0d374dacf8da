"""Builders for hand-made perceptions and steps (the household simulator's perception shape)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path

from envs.base import EntityKind, PerceivedEntity, Perception, Relation
from modules.hippocampus.base import EpisodeContext, StepSummary, UpdateStats
from modules.hippocampus.spatial import SpatialConfig, SpatialMemory
from robomem.testing.hashing import HashingEmbedder

OPENABLE = ("Fridge", "Cabinet", "Drawer", "Microwave", "Box")


def type_of(name: str) -> str:
    return name.split("_")[0]


def entity(
    name: str, kind: EntityKind = "receptacle", states: Mapping[str, bool] | None = None
) -> PerceivedEntity:
    return PerceivedEntity(name=name, type=type_of(name), kind=kind, states=dict(states or {}))


def perception(
    room: str,
    *,
    furniture: Sequence[str] = (),
    place: str | None = None,
    holding: str | None = None,
    objects: Mapping[str, tuple[str, str]] | None = None,
    states: Mapping[str, Mapping[str, bool]] | None = None,
) -> Perception:
    """``objects``: name -> (relation, container) for the objects visible at ``place``."""
    states = states or {}
    objects = objects or {}
    ents = [entity(f, states=states.get(f)) for f in furniture]
    rels = [Relation(subject="I", relation="in", object=room)]
    if place is not None:
        rels.append(Relation(subject="I", relation="at", object=place))
    if holding is not None:
        rels.append(Relation(subject="I", relation="holding", object=holding))
        ents.append(entity(holding, "object", states.get(holding)))
    rels += [Relation(subject=f, relation="in", object=room) for f in furniture]
    for left, right in pairwise(furniture):
        rels.append(Relation(subject=left, relation="left_of", object=right))
        rels.append(Relation(subject=right, relation="right_of", object=left))
    for name, (rel, container) in objects.items():
        ents.append(entity(name, "object", states.get(name)))
        rels.append(Relation(subject=name, relation=rel, object=container))
    return Perception(location=place, room=room, holding=holding, entities=tuple(ents), relations=tuple(rels))


def make_memory(tmp: Path, **overrides: object) -> SpatialMemory:
    return SpatialMemory(SpatialConfig(**overrides), memory_dir=tmp, embedder=HashingEmbedder())


class Driver:
    """Feeds numbered steps of one episode into a memory."""

    def __init__(self, memory: SpatialMemory, site: str = "house", episode: str = "ep-1") -> None:
        self.memory = memory
        self.context = EpisodeContext(site=site, episode_id=episode, instruction="test")
        self.step_no = -1
        memory.begin_episode(self.context)

    def step(
        self,
        seen: Perception | None,
        action: str | None = None,
        success: bool | None = True,
        text: str = "",
    ) -> UpdateStats:
        self.step_no += 1
        summary = StepSummary(
            self.context,
            self.step_no,
            text or (action or "initial observation"),
            action=action,
            feedback="ok" if success else "failed",
            action_success=success if action else None,
            perception=seen,
            time=float(self.step_no),
        )
        return self.memory.update(summary)


KITCHEN = ("Fridge", "Cabinet", "Sink", "CounterTop", "DiningTable")


def dump(memory: SpatialMemory, site: str) -> dict[str, object]:
    """Everything a site holds, as plain JSON values (for exact comparisons across processes)."""
    graph = memory.graph(site)
    return {
        "nodes": {name: node.to_json() for name, node in sorted(graph.nodes())},
        "edges": {" | ".join(key): edge.to_json() for key, edge in sorted(graph.edges())},
        "history": [
            [h.kind, h.subject, h.relation, h.object, h.to_json()] for h in memory.history(site=site)
        ],
    }
