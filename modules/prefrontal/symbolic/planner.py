"""The offline default planner (``planner.type: symbolic``): plans over the agent's beliefs, without an LLM.

Each call rebuilds the beliefs (:mod:`.beliefs`), turns the structured goal into an agenda (:mod:`.agenda`)
and works on the first item not yet believed done: choose an instance that fits its description (or explore
for one), prepare it (slice, clean, heat, cool), and put it where it must go. The plan runs until the first
outcome the planner cannot predict; the loop replans after it, and after any invalid action or critic
objection, on fresher beliefs. The planner keeps no state of its own between calls: everything it knows
comes from the :class:`PlanningInput`, so memory ablations really ablate.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from envs.skill_language import COOLERS, HEATERS, WASHERS, require_grammar
from envs.task import Condition
from modules.prefrontal.base import Plan, PlanningInput
from modules.prefrontal.symbolic.agenda import Item, agenda, satisfying
from modules.prefrontal.symbolic.beliefs import BeliefState
from modules.prefrontal.symbolic.episodes import bring_back, heading_back, taken
from modules.prefrontal.symbolic.explore import explore_container, explore_object
from modules.prefrontal.symbolic.resolve import candidates
from modules.prefrontal.symbolic.tactics import Builder

__all__ = ("SymbolicPlanner", "SymbolicPlannerConfig")

_PREPARED = ("clean", "hot", "cold")
_DEVICES = {"clean": WASHERS, "hot": HEATERS, "cold": COOLERS}


class SymbolicPlannerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["symbolic"] = "symbolic"
    #: Longest plan proposed at once (EmbodiedBench tells its models at most 20).
    max_plan_len: int = Field(default=20, ge=1)
    #: Search where things are usually kept first (:mod:`.priors`) when nothing is known.
    commonsense_priors: bool = True


class SymbolicPlanner:
    def __init__(self, config: SymbolicPlannerConfig | None = None) -> None:
        self.config = config or SymbolicPlannerConfig()

    def plan(self, inp: PlanningInput) -> Plan:
        require_grammar(inp.grammar, "symbolic planner", key="agent.planner.type")
        beliefs = BeliefState.from_input(inp)
        notes: list[str] = [f"critic: {inp.reflection}"] if inp.reflection else []
        goal = self._remembered(inp, beliefs, notes)
        items = agenda(goal)
        if not items:
            return Plan((), reasoning="the task has no structured goal to plan for", empty=True)
        # The critic's objection needs no special handling: it was about beliefs that are rebuilt fresh here.
        pending: list[tuple[Item, frozenset[str]]] = []
        for item in items:
            satisfied = satisfying(beliefs, item)
            if len(satisfied) >= item.count:
                notes.append(f"{_label(item)}: done ({', '.join(satisfied)})")
            else:
                pending.append((item, frozenset(satisfied)))
        if pending:
            # Within the first open stage, an item whose instance is already known goes first: exploring for
            # the others can wait (and may become unnecessary as the agent moves around).
            stage = pending[0][0].stage
            first = [p for p in pending if p[0].stage == stage]
            first.sort(key=lambda p: self._choose_object(beliefs, p[0], p[1]) is None)
            pending = first + [p for p in pending if p[0].stage != stage]
        for item, done in pending:
            builder = Builder(beliefs, self.config.max_plan_len)
            self._work(builder, item, done)
            if builder.actions:
                notes += [f"working on {_label(item)}", *builder.notes]
                return Plan(tuple(builder.actions), reasoning="; ".join(notes))
            notes += [f"{_label(item)}: nothing to try", *builder.notes]
        return Plan((), reasoning="; ".join(notes), empty=True)

    @staticmethod
    def _remembered(inp: PlanningInput, b: BeliefState, notes: list[str]) -> tuple[Condition, ...]:
        """The goal, with "back where it was" conditions naming the thing and its place as the retrieved
        episodes tell; a condition they do not tell about is left out (there is nothing to plan for it)."""
        if not any(c.back for c in inp.task.goal):
            return inp.task.goal
        uses = taken(inp.memory.get("episodic"), b.skills, inp.task.scene)
        history = ((a.action, a.success) for a in inp.history)
        uses += heading_back(history, b.skills, inp.task.instruction)  # only when memory no longer tells
        names = {*b.things, *(u.thing for u in uses), *(u.place for u in uses)}
        types = {n: b.skills.type_of(n) for n in names}
        goal: list[Condition] = []
        for c in inp.task.goal:
            if not c.back:
                goal.append(c)
                continue
            back = bring_back(c, candidates(b, c.object).yes, uses, types)
            if back is None:
                notes.append(f"{c.object.text or c.object.type}: no episode tells where it was taken from")
            else:
                where = back.inside.text if back.inside is not None else "?"
                notes.append(f"episodic memory: {back.object.text} was taken from {where}")
                goal.append(back)
        return tuple(goal)

    # ---- one agenda item ---------------------------------------------------------------------------------
    def _work(self, builder: Builder, item: Item, done: frozenset[str]) -> None:
        b = builder.b
        kinds = b.instances(item.ref.type)
        if not item.placement and not item.held and kinds and not b.skills.pickable(kinds[0]):
            self._switch(builder, item)
            return
        obj = self._choose_object(b, item, done)
        if obj is None:
            cands = candidates(b, item.ref, exclude=done)
            unlocated = tuple(n for n in cands.yes if b.place_of(n) is None and not b.get(n).visible)
            anyway = self._anyway(builder, item, done)
            explore_object(builder, item.ref, cands, unlocated, anyway, priors=self.config.commonsense_priors)
            return
        container = self._choose_container(b, item, obj, done) if item.inside is not None else None
        if "sliced" in item.states and not b.get(obj).states.get("sliced"):
            builder.slice(obj)
        builder.fetch(obj)
        for state in _PREPARED:
            if state in item.states and not b.get(obj).states.get(state):
                builder.treat(obj, state)
        if item.inside is None or not builder.ok:
            return
        if container is None:
            explore_container(builder, item.inside, candidates(b, item.inside, exclude=frozenset({obj})))
            return
        builder.put_into(container)

    def _anyway(self, builder: Builder, item: Item, done: frozenset[str]) -> tuple[str, ...]:
        """Places this item's plan will visit whatever instance it takes: its appliances and its target."""
        places = [builder.device(k) for s, k in _DEVICES.items() if s in item.states]
        if item.inside is not None:
            targets = candidates(builder.b, item.inside).yes
            places.append(self._choose_container(builder.b, item, "", done) if targets else None)
        return tuple(p for p in places if p is not None)

    @staticmethod
    def _switch(builder: Builder, item: Item) -> None:
        """A thing that stays put and must be in some state: a lamp to switch on."""
        b = builder.b
        cands = candidates(b, item.ref)
        if not cands.yes:
            explore_container(builder, item.ref, cands)
            return
        names = list(cands.yes)
        name = min(names, key=lambda n: (not b.nearby(n), b.get(n).room != b.room, names.index(n)))
        if "on" in item.states:
            builder.switch_on(name)

    @staticmethod
    def _choose_object(b: BeliefState, item: Item, done: frozenset[str]) -> str | None:
        """A fitting instance not yet done: the one in hand, else the readiest one the agent can reach."""
        yes = list(candidates(b, item.ref, exclude=done).yes)
        held = next((h for h in b.holding if h in yes), None)
        if held is not None:
            return held

        def located(name: str) -> bool:
            return b.get(name).visible or b.place_of(name) is not None

        usable = yes if b.skills.alfred else [n for n in yes if located(n)]
        if not usable:
            return None

        def key(name: str) -> tuple[int, bool, bool, bool, int]:
            thing = b.get(name)
            place = b.place_of(name)
            return (
                -sum(bool(thing.states.get(s)) for s in item.states),
                not thing.visible,
                not located(name),
                place is not None and b.is_open(place) is False,
                usable.index(name),
            )

        return min(usable, key=key)

    @staticmethod
    def _choose_container(b: BeliefState, item: Item, obj: str, done: frozenset[str]) -> str | None:
        assert item.inside is not None
        kind = b.type_of(obj)
        avoided = b.avoided()
        yes = [
            n
            for n in candidates(b, item.inside, exclude=frozenset({obj})).yes
            if (kind, n) not in b.facts.unfit and n not in avoided
        ]
        if not yes:
            return None
        holding_done = {a for d in done for a in b.ancestors(d)}

        def key(name: str) -> tuple[bool, bool, bool, bool, int]:
            return (
                name not in holding_done,
                name != b.location,
                b.is_open(name) is not True,
                b.get(name).room != b.room,
                yes.index(name),
            )

        return min(yes, key=key)


def _label(item: Item) -> str:
    return item.ref.text or item.ref.type
