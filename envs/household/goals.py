"""Binding goal descriptions to instances, and evaluating goal conditions (SR and GC).

Descriptions are bound once, when the episode starts: "the apple on the table" means the apple that was
on the table then, even after it has been moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from envs.household.world import World
from envs.task import Condition, Ref

__all__ = ("Bindings", "bind", "bind_goal", "evaluate")


def _matches(world: World, name: str, ref: Ref) -> bool:
    entity = world.entities[name]
    return entity.type == ref.type and all(entity.attributes.get(k) == v for k, v in ref.attributes.items())


def bind(world: World, ref: Ref) -> frozenset[str]:
    """Every instance the description fits in the current world."""
    candidates = {name for name in world.entities if _matches(world, name, ref)}
    if ref.relation is None:
        return frozenset(candidates)
    targets = bind(world, ref.relation.target)
    relation = ref.relation.relation
    kept = set()
    for name in candidates:
        if relation in ("left_of", "right_of"):
            left, right = world.neighbours(name)
            # "X left of Y": Y is X's right-hand neighbour.
            other = right if relation == "left_of" else left
            if other in targets:
                kept.add(name)
        elif relation in ("in", "on"):
            if world.entities[name].parent in targets:
                kept.add(name)
        else:
            raise ValueError(f"unknown relation {relation!r} in description {ref.text!r}")
    return frozenset(kept)


@dataclass(frozen=True)
class Bindings:
    """Condition index -> (objects, containers) the condition's descriptions were bound to."""

    objects: tuple[frozenset[str], ...]
    containers: tuple[frozenset[str] | None, ...]


def bind_goal(world: World, goal: tuple[Condition, ...]) -> Bindings:
    objects = tuple(bind(world, c.object) for c in goal)
    return Bindings(
        objects=objects,
        containers=tuple(
            frozenset(world.taken_from[o] for o in objects[i] if o in world.taken_from)
            if c.back
            else (bind(world, c.inside) if c.inside is not None else None)
            for i, c in enumerate(goal)
        ),
    )


def _satisfied(
    world: World, condition: Condition, objects: frozenset[str], within: frozenset[str] | None
) -> bool:
    count = 0
    for name in objects:
        entity = world.entities[name]
        if not all(entity.has_state(state) for state in condition.states):
            continue
        if condition.held and world.held != name:
            continue
        if within is not None and not within.intersection(world.ancestors(name)):
            continue
        count += 1
    return count >= condition.count


def evaluate(world: World, goal: tuple[Condition, ...], bindings: Bindings) -> tuple[bool, float]:
    """(task_success, task_progress): all conditions hold; fraction of conditions that hold."""
    if not goal:
        return False, 0.0
    met = sum(_satisfied(world, c, bindings.objects[i], bindings.containers[i]) for i, c in enumerate(goal))
    return met == len(goal), met / len(goal)
