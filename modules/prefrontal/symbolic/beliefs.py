"""The agent's beliefs at one step, fused from what it perceives now, what spatial memory recalls and what
its own episode history implies. Never from the simulator's state: only :class:`PlanningInput` is read.

Precedence: the current perception is authoritative for what it shows (and for what it would show: an
object believed at the agent's open place but not seen there is no longer believed there); memory fills in
the rest, with beliefs seen this episode trusted and older ones kept as hints of where to look; the history
adds the states only the agent's own actions reveal (clean, hot, cold), ALFRED's hidden ``put down``
target, and what the episode already tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from envs.base import PERCEPTION_FIELDS, Perception, PerceptionField
from envs.skill_language import COOLERS, FAUCETS, HEATERS, WASHERS, SkillSet, parse_skill
from modules.hippocampus.spatial.model import SpatialRecall
from modules.prefrontal.base import ExecutedAction, PlanningInput
from modules.prefrontal.lessons import kept_places
from modules.prefrontal.symbolic.episode import FLOOR, EpisodeFacts, replay

__all__ = ("AGENT", "BeliefState", "Thing")

AGENT = "I"
_LOCATION = frozenset({"in", "on", "at", "under"})
#: Confidence of "it is where the last ``find`` took me, inside the closed receptacle I stand at".
_HIDDEN_CONFIDENCE = 0.9


@dataclass
class Thing:
    """What the agent believes about one named thing."""

    name: str
    type: str
    kind: str = "unknown"
    attributes: dict[str, str] = field(default_factory=dict)
    #: Perceivable states (``open``, ``on``, ``sliced``) and derived ones (``clean``, ``hot``, ``cold``).
    states: dict[str, bool] = field(default_factory=dict)
    #: Believed container (objects) or anchor (appliances), and whether the evidence is from this episode.
    parent: str | None = None
    parent_conf: float = 0.0
    parent_fresh: bool = False
    room: str | None = None
    left: str | None = None
    right: str | None = None
    #: Its room's row was perceived, so a missing neighbour means there is none.
    row_known: bool = False
    visible: bool = False
    #: Where older memories put it: (place, confidence), best first. Suggestions for exploring, not facts.
    hints: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class BeliefState:
    skills: SkillSet
    things: dict[str, Thing] = field(default_factory=dict)
    room: str | None = None
    location: str | None = None
    #: What the agent holds (an inventory, :attr:`envs.base.Perception.holding`); EB's robot holds one.
    holding: tuple[str, ...] = ()
    #: Whether a structured perception showed what is in view (without one, absence of evidence proves
    #: nothing).
    perceived: bool = False
    #: Perception fields not reported at this step (all of them without a structured perception): their
    #: beliefs come from memory and the history, and an unreported hand is not an empty one.
    unreported: frozenset[PerceptionField] = frozenset(PERCEPTION_FIELDS)
    rooms: set[str] = field(default_factory=set)
    #: Types of movable things known to hold others (a bowl): the goal's containers and what was seen.
    container_types: set[str] = field(default_factory=set)
    #: Types of the things the goal is about.
    goal_types: set[str] = field(default_factory=set)
    facts: EpisodeFacts = field(default_factory=EpisodeFacts)
    history: tuple[ExecutedAction, ...] = ()
    #: Goal type -> places where semantic lessons say this house keeps such things (search hints that
    #: outlive the house being re-staged, unlike spatial memory's).
    kept: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Actions the critic vetoed for good this episode (its reasons came from memory, which the planner
    #: does not read itself).
    vetoed: frozenset[str] = frozenset()

    # ---- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_input(cls, inp: PlanningInput) -> BeliefState:
        state = cls(SkillSet(inp.skills, inp.task.profile), history=inp.history, vetoed=frozenset(inp.vetoed))
        state.container_types = {c.inside.type for c in inp.task.goal if c.inside is not None}
        state.goal_types = {c.object.type for c in inp.task.goal}
        wanted = {c.object.type: c.object.attributes for c in inp.task.goal if c.object.attributes}
        state.kept = kept_places(inp.memory.get("semantic"), state.skills, sorted(state.goal_types), wanted)
        spatial = inp.memory.get("spatial")
        if spatial is not None and isinstance(spatial.data, SpatialRecall):
            state._absorb_memory(spatial.data)
        perception = inp.observation.perception
        if perception is not None:
            state._absorb_perception(perception, before_history=True)
        state.facts = replay(
            inp.history,
            state.skills,
            parent_of=lambda n: state.get(n).parent if n in state.things else None,
            place_of=state.place_of,
            is_container=state.is_container,
        )
        state._absorb_history()
        if perception is not None:
            state._absorb_perception(perception, before_history=False)
        state._derive_effects()
        return state

    def _absorb_memory(self, recall: SpatialRecall) -> None:
        stamps = [b.last_seen.episode for b in recall.beliefs] + [s.last_seen.episode for s in recall.states]
        current = max(stamps, default=0)  # the agent's own edges are refreshed every step
        for node in recall.states:
            if node.node == AGENT:
                continue
            thing = self.thing(node.node, node.type, node.kind)
            thing.attributes.update(node.attributes)
            if node.kind == "place":
                self.rooms.add(node.node)
            if node.last_seen.episode == current:
                thing.states.update(node.states)  # an older episode's open doors may have been shut since
        located: dict[str, tuple[tuple[int, int, float], str, bool]] = {}
        for b in recall.beliefs:
            fresh = b.last_seen.episode == current
            if b.subject == AGENT:
                if fresh and b.relation == "at":
                    self.location = b.object
                elif fresh and b.relation == "holding" and b.object not in self.holding:
                    self.holding += (b.object,)
                elif fresh and b.relation == "in":
                    self.room = b.object
                continue
            if b.relation in ("left_of", "right_of"):
                self._neighbours(b.subject, b.relation, b.object)
            elif b.relation in _LOCATION:
                if b.object in self.rooms:
                    self.thing(b.subject).room = b.object
                    continue
                key = (b.last_seen.episode, b.last_seen.step, b.confidence)
                if b.subject not in located or key > located[b.subject][0]:
                    located[b.subject] = (key, b.object, fresh)
                if not fresh:
                    self.thing(b.subject).hints.append((b.object, b.confidence))
        for name, ((_, _, conf), where, fresh) in located.items():
            thing = self.thing(name)
            if fresh:
                thing.parent, thing.parent_conf, thing.parent_fresh = where, conf, True
        for thing in self.things.values():
            thing.hints.sort(key=lambda h: -h[1])

    def _absorb_perception(self, p: Perception, *, before_history: bool) -> None:
        """Twice: before the replay (it needs the freshest containers) and after it (perception wins)."""
        self.perceived = p.knows("entities")
        self.unreported = frozenset(p.unknown)
        if p.knows("location"):
            self.location = p.location
        if p.knows("room"):
            self.room = p.room
        if p.knows("holding"):
            self.holding = p.holding
        if p.room is not None:
            self.rooms.add(p.room)
        for entity in p.entities:
            thing = self.thing(entity.name, entity.type, entity.kind)
            thing.attributes.update(entity.attributes)
            thing.states.update(entity.states)
            thing.visible = entity.kind == "object"
        row: list[str] = []
        for rel in p.relations:
            if rel.subject == AGENT:
                continue
            if rel.relation in ("left_of", "right_of"):
                self._neighbours(rel.subject, rel.relation, rel.object)
            elif rel.relation in _LOCATION and rel.object == p.room:
                self.thing(rel.subject).room = p.room
                row.append(rel.subject)
            elif rel.relation in _LOCATION:
                thing = self.thing(rel.subject)
                thing.parent, thing.parent_conf, thing.parent_fresh = rel.object, 1.0, True
        for name in row:
            self.things[name].row_known = True
        for name in p.holding if p.knows("holding") else ():
            held = self.thing(name)
            held.parent, held.parent_fresh, held.visible = None, True, True
        if not before_history and self.perceived:
            self._negative_evidence()

    def _negative_evidence(self) -> None:
        """What the agent would see but does not is not there: forget those locations and hints."""
        in_view = {n for n in self.things if self._contents_in_view(n)}
        for thing in self.things.values():
            if thing.visible or thing.name in self.holding or not self.skills.pickable(thing.name):
                continue  # furniture and appliances do not move
            if thing.parent in in_view:
                thing.parent, thing.parent_conf, thing.parent_fresh = None, 0.0, False
            thing.hints = [h for h in thing.hints if h[0] not in in_view]

    def _contents_in_view(self, name: str) -> bool:
        thing = self.things[name]
        if thing.states.get("open") is False:
            return False
        if name == self.location:
            return True
        if thing.type == "Floor" and thing.room == self.room and self.room is not None:
            return True
        return thing.visible and thing.kind == "object"

    def _absorb_history(self) -> None:
        facts = self.facts
        for name, states in facts.set_states.items():
            if name in self.things or self.skills.instances(self.skills.type_of(name)):
                self.thing(name).states.update(states)
        for name in facts.closed:
            if facts.set_states.get(name, {}).get("open") is None:
                self.thing(name).states["open"] = False
        for name, container in facts.hidden_in.items():
            self._place(name, container, _HIDDEN_CONFIDENCE)
        # Not perceived (blind, or a robot that does not report it): the history is the best account.
        if not self.knows("location"):
            self.location = facts.at
        if not self.knows("holding") and facts.held is not None:
            self.holding = (facts.held,)
        for name, container in facts.contents.items():
            if container != FLOOR and name != facts.held:
                self._place(name, container, 0.8)
        if facts.last_find is not None and self.perceived and self.location is not None:
            name, _ = facts.last_find
            here = self.things.get(self.location)
            hidden_here = here is not None and here.states.get("open") is False
            if self.skills.pickable(name) and hidden_here and not self.get(name).visible:
                # Found it, cannot see it, standing at a closed receptacle: it is inside.
                self._place(name, self.location, _HIDDEN_CONFIDENCE)

    def _place(self, name: str, container: str, confidence: float) -> None:
        thing = self.thing(name)
        if not (thing.parent_fresh and thing.parent_conf >= confidence):
            thing.parent, thing.parent_conf, thing.parent_fresh = container, confidence, True

    def _derive_effects(self) -> None:
        for thing in self.things.values():
            if thing.kind not in ("object", "unknown") or not self.skills.pickable(thing.name):
                continue
            chain = self.ancestors(thing.name)
            if any(self.get(c).type in COOLERS for c in chain):
                thing.states.update(cold=True, hot=False)
            if any(self.get(c).type in HEATERS and self.get(c).states.get("on") for c in chain):
                thing.states.update(hot=True, cold=False)
            if any(self.get(c).type in WASHERS and self.faucet_on(c) for c in chain):
                thing.states["clean"] = True
        for name, states in self.facts.caused.items():
            self.thing(name).states.update(states)

    def _neighbours(self, subject: str, relation: str, obj: str) -> None:
        # "A left_of B": B is A's right-hand neighbour.
        left, right = (subject, obj) if relation == "left_of" else (obj, subject)
        self.thing(left).right = right
        self.thing(right).left = left

    # ---- queries ---------------------------------------------------------------------------------------
    def thing(self, name: str, type_name: str | None = None, kind: str | None = None) -> Thing:
        thing = self.things.get(name)
        if thing is None:
            thing = Thing(name, type_name or self.skills.type_of(name))
            if kind is None and self.skills.pickable(name):
                kind = "object"
            self.things[name] = thing
        if type_name and type_name not in ("unknown", ""):
            thing.type = type_name
        if kind and kind != "unknown":
            thing.kind = kind
        return thing

    def knows(self, name: PerceptionField) -> bool:
        """Whether the current perception reported ``name`` (a field of :class:`envs.base.Perception`)."""
        return name not in self.unreported

    def get(self, name: str) -> Thing:
        """The belief about ``name`` (an empty one, not stored, when nothing is known)."""
        return self.things.get(name) or Thing(name, self.skills.type_of(name))

    def type_of(self, name: str) -> str:
        return self.get(name).type

    def instances(self, type_name: str) -> list[str]:
        """Every name believed to be of ``type_name``, in skill-list order, minus names that do not exist."""
        names = list(self.skills.instances(type_name))
        names += sorted(n for n, t in self.things.items() if t.type == type_name and n not in names)
        return [n for n in names if n not in self.facts.missing]

    def ancestors(self, name: str) -> list[str]:
        chain: list[str] = []
        parent = self.get(name).parent
        while parent is not None and parent not in chain and parent != name:
            chain.append(parent)
            parent = self.get(parent).parent
        return chain

    def place_of(self, name: str) -> str | None:
        """The fixed place (furniture) where ``name`` is believed to be; ``None`` when unknown or held."""
        thing = self.get(name)
        if not self.skills.pickable(name) and thing.kind != "object":
            return thing.parent or name  # furniture is its own place; an appliance is at its anchor
        chain = self.ancestors(name)
        if not chain or name in self.holding or any(h in chain for h in self.holding):
            return None
        top = chain[-1]
        return None if self.skills.pickable(top) else top

    def chosen_destinations(self) -> set[str]:
        """Receptacles the agent itself put goal things into this episode: it chose them because they fitted
        the goal then, even if it can no longer see why (a drawer "left of the toilet" in another room)."""
        return {
            where
            for obj, where in self.facts.contents.items()
            if self.type_of(obj) in self.goal_types and where != FLOOR
        }

    def is_container(self, name: str) -> bool:
        """Whether ``name`` holds (or is believed to hold) other things."""
        if not self.skills.pickable(name) or self.get(name).type in self.container_types:
            return True
        return any(t.parent == name for t in self.things.values())

    def is_open(self, name: str) -> bool | None:
        """``True`` for things that cannot be closed, the believed state otherwise (``None``: unknown)."""
        if not self.skills.openable(name):
            return True
        return self.get(name).states.get("open")

    def faucet_on(self, sink: str) -> bool:
        return any(
            t.type in FAUCETS and t.parent == sink and t.states.get("on") for t in self.things.values()
        )

    def faucet_of(self, sink: str) -> str | None:
        return next((t.name for t in self.things.values() if t.type in FAUCETS and t.parent == sink), None)

    def nearby(self, name: str) -> bool:
        """Within reach now: a visible object, or the place the agent stands at (or an appliance there)."""
        thing = self.get(name)
        if self.skills.pickable(name):
            return thing.visible
        return self.location is not None and self.place_of(name) == self.location

    def visible_of(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if self.get(n).visible]

    def avoided(self) -> set[str]:
        """Receptacles not to use this episode: ones that would not open when tried, and ones the critic
        vetoed going to or opening for good."""
        vetoed = {c.arg for c in map(parse_skill, self.vetoed) if c is not None and c.arg is not None}
        return self.facts.stuck | {n for n in vetoed if not self.skills.pickable(n)}

    def searched(self) -> set[str]:
        """Places whose whole contents the agent has seen this episode (visited, and open or opened)."""
        done = set()
        for place, index in self.facts.visits.items():
            opened = self.facts.opened.get(place, -1) >= index or self.is_open(place) is True
            if opened or (place == self.location and self.is_open(place)):
                done.add(place)
        if self.location is not None and self.is_open(self.location):
            done.add(self.location)
        return done
