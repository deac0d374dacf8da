"""Relation extraction (Algorithm 2, line 1), deterministic variant: the structured perception and the
executed action, read without a model.

Perception gives observed facts (furniture in the room, left/right neighbours, the agent's room, place and
hand, objects in/on their container at the agent's place, open/on/sliced states). The action adds what it
implies even when nothing perceives it (a successful pick means "I holding X"); perception wins over the
action when both speak about the same thing in the same step.
"""

from __future__ import annotations

from envs.base import Perception
from envs.skill_language import parse_action
from modules.hippocampus.base import StepSummary
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.observations import Clear, Fact, NodeInfo, Observations, StateObs
from modules.hippocampus.spatial.rules import HOLDING, LOCATION_RELATIONS, normalize_relation

__all__ = ("extract_deterministic", "observe_action", "observe_perception")


def _resolve_name(name: str, graph: SiteGraph, near: str | None) -> str:
    """Map an action argument onto a vertex: the exact name, else the one instance of that type at the
    agent's place (ALFRED's "pick up the Mug" picks a visible ``Mug_2``), else the argument itself."""
    if name in graph:
        return name
    if near is not None:
        here = [k[0] for k, _ in graph.in_edges(near) if k[1] in LOCATION_RELATIONS]
        typed = [n for n in here if graph.node(n).type.lower() == name.lower()]
        if len(typed) == 1:
            return typed[0]
    return name


def observe_action(summary: StepSummary, graph: SiteGraph, cfg: SpatialConfig) -> Observations:
    """What a successful action implies, with provenance ``inferred``."""
    obs = Observations()
    if summary.action is None or summary.action_success is not True:
        return obs
    parsed = parse_action(summary.action)
    if parsed is None:
        return obs
    me, conf = cfg.agent, cfg.inferred_confidence
    place = next((k[2] for k, _ in graph.functional_out(me, "location")), None)
    held = next((k[2] for k, _ in graph.out_edges(me) if k[1] == HOLDING), None)
    arg = None if parsed.arg is None else _resolve_name(parsed.arg, graph, place)
    if parsed.verb == "navigate" and arg is not None and arg in graph:
        target: str | None = arg
        if graph.node(arg).kind == "object":
            # "find a Mug" takes the agent to wherever the mug is believed to be.
            target = next((k[2] for k, _ in graph.functional_out(arg, "location")), None)
        if target is not None:
            obs.facts.append(Fact(me, "at", target, "inferred", conf))
    elif parsed.verb == "pick" and arg is not None:
        obs.facts.append(Fact(me, HOLDING, arg, "inferred", conf))
    elif parsed.verb in ("put", "drop"):
        obs.clears.append(Clear(me, HOLDING, f"{parsed.verb} succeeded", "inferred"))
        where = arg if parsed.verb == "put" and arg is not None else place
        if held is not None and where is not None and parsed.verb == "put":
            obs.facts.append(Fact(held, "in", where, "inferred", conf))
    elif parsed.verb in ("open", "close") and arg is not None:
        obs.states.append(StateObs(arg, "open", parsed.verb == "open", "inferred"))
    elif parsed.verb in ("on", "off") and arg is not None:
        obs.states.append(StateObs(arg, "on", parsed.verb == "on", "inferred"))
    elif parsed.verb == "slice" and arg is not None:
        obs.states.append(StateObs(arg, "sliced", True, "inferred"))
    return obs


def observe_perception(perception: Perception, cfg: SpatialConfig) -> Observations:
    """Observed facts, the perceived names and the containers whose contents were fully in view."""
    obs = Observations()
    me = cfg.agent
    obs.nodes[me] = NodeInfo(type="agent", kind="agent")
    if perception.room is not None:
        obs.nodes[perception.room] = NodeInfo(type="room", kind="place")
    by_name = {e.name: e for e in perception.entities}
    for entity in perception.entities:
        obs.nodes[entity.name] = NodeInfo(entity.type, entity.kind, dict(entity.attributes))
        for state, value in entity.states.items():
            obs.states.append(StateObs(entity.name, state, value, "observed"))
    for rel in perception.relations:
        s, r, o = normalize_relation(rel.subject, rel.relation, rel.object)
        obs.facts.append(Fact(s, r, o, "observed", 1.0))
    # The agent's own fields say the same as its relations (a robot may send only one of the two); a field
    # the perception does not report says nothing: an unreported hand is not an empty one.
    own: tuple[tuple[str, str | None, bool], ...] = (
        ("in", perception.room, perception.knows("room")),
        ("at", perception.location, perception.knows("location")),
        *((HOLDING, held, perception.knows("holding")) for held in perception.holding),
    )
    for relation, target, known in own:
        if known and target is not None:
            obs.facts.append(Fact(me, relation, target, "observed", 1.0))
    if perception.knows("holding"):
        # The inventory is the whole of what is held: anything else believed held is not.
        reason = "not in hand" if perception.holding else "hand seen empty"
        obs.clears.append(Clear(me, HOLDING, reason, keep=perception.holding))
    if perception.knows("location") and perception.location is None and perception.room is not None:
        obs.clears.append(Clear(me, "location", "not at any place"))
    if not perception.knows("entities"):
        return obs  # what is in view is unknown: no negative evidence (``perceived`` stays None)

    def open_(name: str) -> bool:
        entity = by_name.get(name)
        return entity is None or entity.states.get("open", True)

    visible: set[str] = set()
    if perception.location is not None and open_(perception.location):
        visible.add(perception.location)
    for entity in perception.entities:
        if entity.kind == "object" and open_(entity.name):
            visible.add(entity.name)  # a visible object's own contents are in view too
    for fact in obs.facts:
        # Seeing something inside a container (a floor, an open box) means its contents are in view.
        subject = by_name.get(fact.subject)
        seen_inside = fact.relation in ("in", "on") and subject is not None and subject.kind == "object"
        if seen_inside and open_(fact.object):
            visible.add(fact.object)
    perceived = set(by_name) | {me}
    for fact in obs.facts:
        perceived.update((fact.subject, fact.object))
    obs.perceived = frozenset(perceived)
    obs.visible = frozenset(visible)
    return obs


def extract_deterministic(
    summary: StepSummary, graph: SiteGraph, cfg: SpatialConfig, *, read_action: bool = True
) -> Observations:
    """Perception (observed) and action (inferred) of one step, merged so the better source wins.
    ``read_action=False``: the perception only (an action in a skill grammar the rules cannot read)."""
    action = observe_action(summary, graph, cfg) if read_action else Observations()
    if summary.perception is None:
        return action.merged(graph)
    seen = observe_perception(summary.perception, cfg)
    combined = Observations(
        facts=seen.facts + action.facts,
        clears=seen.clears + action.clears,
        states=seen.states + action.states,
        nodes=seen.nodes,
        perceived=seen.perceived,
        visible=seen.visible,
    )
    return combined.merged(graph)
