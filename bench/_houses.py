"""Synthetic households for the spatial-memory benchmarks (step_overhead, graph_locality)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envs.base import Perception
    from envs.household.world import World
    from robomem.stores.graph_sqlite import EdgeRow, NodeRow

__all__ = ("AGENT_NODE", "HouseRows", "bench_house", "house_rows", "tag_perception", "tagged", "walk_through")

# ---- synthetic households (step_overhead, graph_locality) -----------------------------------------------
# Houses come from the simulator's own seeded scene generator and are perceived with its own perception code;
# the spatial rows they produce come from the real SpatialMemory update path (see ``house_rows``), so a bulk
# fill writes exactly the rows a robot that walked through those houses would have written.

#: The agent's own vertex in spatial memory (and in the household perception).
AGENT_NODE = "I"


def bench_house(profile: str, index: int) -> World:
    """House number ``index`` (deterministic): a procedurally generated household of ``profile``."""
    from envs.household.scenes import generate_scene

    return generate_scene(profile, f"bench_home_{index:05d}", seed=index)


def tagged(name: str, tag: str) -> str:
    """``Mug_2`` of house ``h17`` → ``Mug_2_h17``: unique names when many houses share one graph. The agent
    (``I``) is one and the same everywhere."""
    return name if name == AGENT_NODE or not tag else f"{name}_{tag}"


def tag_perception(perception: Perception, tag: str) -> Perception:
    """The same perception with every entity name (and room) tagged, see :func:`tagged`."""
    from envs.base import Perception, Relation

    if not tag:
        return perception

    def t(name: str | None) -> str | None:
        return None if name is None else tagged(name, tag)

    return Perception(
        location=t(perception.location),
        room=t(perception.room),
        holding=tuple(tagged(name, tag) for name in perception.holding),
        entities=tuple(e.model_copy(update={"name": tagged(e.name, tag)}) for e in perception.entities),
        relations=tuple(
            Relation(subject=tagged(r.subject, tag), relation=r.relation, object=tagged(r.object, tag))
            for r in perception.relations
        ),
    )


def walk_through(world: World) -> list[Perception]:
    """What a robot perceives visiting every room and every place of ``world``, opening each closed
    receptacle to look inside and closing it again (the world is left as it was)."""
    from envs.household.perception import perceive

    start = (world.agent_room, world.agent_location)
    seen: list[Perception] = []
    for room in world.rooms:
        world.agent_room, world.agent_location = room, None
        seen.append(perceive(world))
        for place in world.room_fixed(room):
            world.agent_location = place.name
            seen.append(perceive(world))
            if place.open is False:
                place.open = True
                seen.append(perceive(world))
                place.open = False
                seen.append(perceive(world))
    world.agent_room, world.agent_location = start
    return seen


@dataclass(frozen=True)
class HouseRows:
    """A house's spatial-memory rows as the real update path stored them (the agent's own rows left out)."""

    nodes: tuple[NodeRow, ...]
    edges: tuple[EdgeRow, ...]

    def tagged(self, tag: str) -> HouseRows:
        from robomem.stores.graph_sqlite import EdgeRow, NodeRow

        return HouseRows(
            tuple(NodeRow(tagged(n.name, tag), n.data) for n in self.nodes),
            tuple(
                EdgeRow(tagged(e.subject, tag), e.relation, tagged(e.object, tag), e.data) for e in self.edges
            ),
        )


def house_rows(world: World, work_dir: Path) -> HouseRows:
    """Walk through ``world`` with a real :class:`SpatialMemory` (deterministic extractor and resolver,
    lexical hashing embedder: vectors are not kept) and return the rows it committed to SQLite. Stamps say
    episode 1, steps 0..n, episode id ``bench-fill``."""
    from modules.hippocampus.base import EpisodeContext, StepSummary
    from modules.hippocampus.spatial.config import SpatialConfig
    from modules.hippocampus.spatial.memory import SpatialMemory
    from robomem.stores.graph_sqlite import NodeRow, SqliteGraphStore
    from robomem.testing.hashing import HashingEmbedder

    work_dir.mkdir(parents=True, exist_ok=True)
    memory = SpatialMemory(SpatialConfig(), memory_dir=work_dir, embedder=HashingEmbedder())
    try:
        context = EpisodeContext(site=world.scene, episode_id="bench-fill", instruction="explore the house")
        memory.begin_episode(context)
        for step, perception in enumerate(walk_through(world)):
            where = f" at {perception.location}." if perception.location else "."
            memory.update(
                StepSummary(context, step, f"I am in the {perception.room}{where}", perception=perception)
            )
    finally:
        memory.close()
    store = SqliteGraphStore(work_dir / "spatial.sqlite")
    try:
        rows = store.load(world.scene)
    finally:
        store.close()
    nodes = tuple(NodeRow(n.name, n.data) for n in rows.nodes if n.name != AGENT_NODE)
    edges = tuple(e for e in rows.edges if AGENT_NODE not in (e.subject, e.object))
    return HouseRows(nodes, edges)
