"""Hand-built planning inputs for the offline planner and critic: skill lists, perceptions shaped like the
household simulator's, spatial recalls and histories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from envs.base import EntityKind, Observation, PerceivedEntity, Perception, Relation
from envs.task import Condition, Ref, RefRelation, Task
from modules.hippocampus.base import StoreResult
from modules.hippocampus.spatial.model import Belief, NodeState, SpatialRecall, Stamp
from modules.prefrontal.base import ExecutedAction, PlanningInput

OK_ALFRED = "Last action executed successfully."

#: type -> (instances, pickable, openable, toggleable, sliceable)
ALFRED_TYPES: dict[str, tuple[int, bool, bool, bool, bool]] = {
    "CounterTop": (2, False, False, False, False),
    "Cabinet": (2, False, True, False, False),
    "Drawer": (3, False, True, False, False),
    "Fridge": (1, False, True, False, False),
    "Microwave": (1, False, True, True, False),
    "Sink": (1, False, False, False, False),
    "Faucet": (1, False, False, True, False),
    "SideTable": (2, False, False, False, False),
    "DeskLamp": (1, False, False, True, False),
    "Floor": (1, False, False, False, False),
    "Mug": (3, True, False, False, False),
    "Bowl": (1, True, False, False, False),
    "Apple": (2, True, False, False, True),
    "Knife": (1, True, False, False, False),
    "Book": (1, True, False, False, False),
}


def alfred_skills(types: Mapping[str, tuple[int, bool, bool, bool, bool]] = ALFRED_TYPES) -> tuple[str, ...]:
    """An EB-ALFRED-style list: type-level skills, then appended ones for repeated instances."""
    skills = [f"find a {t}" for t in types]
    skills += [f"pick up the {t}" for t, spec in types.items() if spec[1]]
    skills += ["put down the object in hand", "drop the object in hand"]
    for t, spec in types.items():
        if spec[2]:
            skills += [f"open the {t}", f"close the {t}"]
        if spec[3]:
            skills += [f"turn on the {t}", f"turn off the {t}"]
        if spec[4]:
            skills.append(f"slice the {t}")
    for t, (n, pick, door, toggle, slice_) in types.items():
        for k in range(2, n + 1):
            name = f"{t}_{k}"
            skills.append(f"find a {name}")
            skills += [f"pick up the {name}"] if pick else []
            skills += [f"open the {name}", f"close the {name}"] if door else []
            skills += [f"turn on the {name}", f"turn off the {name}"] if toggle else []
            skills += [f"slice the {name}"] if slice_ else []
    return tuple(skills)


HABITAT_PLACES = ("counter 1", "refrigerator", "cabinet 1", "table 1", "sofa", "cabinet 2", "table 2")
HABITAT_OBJECTS = ("apple", "apple 2", "bowl", "mug")
HABITAT_OPENABLE = ("refrigerator", "cabinet 1", "cabinet 2")


def habitat_skills() -> tuple[str, ...]:
    skills = [f"navigate to the {p}" for p in HABITAT_PLACES]
    skills += [f"pick up the {o}" for o in HABITAT_OBJECTS]
    skills += [f"place at the {p}" for p in HABITAT_PLACES]
    for p in HABITAT_OPENABLE:
        skills += [f"open the {p}", f"close the {p}"]
    return tuple(skills)


def ref(type_name: str, text: str = "", relation: tuple[str, Ref] | None = None, **attributes: str) -> Ref:
    rel = RefRelation(relation=relation[0], target=relation[1]) if relation else None
    return Ref(type=type_name, attributes=attributes, relation=rel, text=text or type_name.lower())


def task(*goal: Condition, profile: str = "alfred", task_type: str = "pick_and_place_simple") -> Task:
    return Task(
        task_id="t",
        profile=profile,
        subset="base",
        task_type=task_type,
        instruction="a test task",
        scene="house",
        goal=goal,
    )


@dataclass
class Scene:
    """A perception builder: furniture of the room in row order, objects at the agent's place."""

    room: str
    furniture: Sequence[str]
    types: Mapping[str, str] = field(default_factory=dict)
    states: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: appliance -> the receptacle it sits at (a faucet at its sink)
    anchors: Mapping[str, str] = field(default_factory=dict)

    def type_of(self, name: str) -> str:
        """``Cabinet_2`` → ``Cabinet``, ``apple 2`` → ``apple`` unless ``types`` says otherwise."""
        head, _, tail = name.replace(" ", "_").rpartition("_")
        return self.types.get(name, name[: len(head)] if head and tail.isdigit() else name)

    def perceive(
        self,
        *,
        at: str | None = None,
        objects: Mapping[str, str] | None = None,
        holding: str | None = None,
        object_states: Mapping[str, Mapping[str, bool]] | None = None,
    ) -> Perception:
        """``objects``: visible object -> its container."""
        entities: list[PerceivedEntity] = []
        relations = [Relation(subject="I", relation="in", object=self.room)]
        if at is not None:
            relations.append(Relation(subject="I", relation="at", object=at))
        if holding is not None:
            relations.append(Relation(subject="I", relation="holding", object=holding))
        for i, name in enumerate(self.furniture):
            entities.append(self._entity(name, "receptacle", self.states.get(name, {})))
            relations.append(Relation(subject=name, relation="in", object=self.room))
            if i + 1 < len(self.furniture):
                right = self.furniture[i + 1]
                relations += [
                    Relation(subject=name, relation="left_of", object=right),
                    Relation(subject=right, relation="right_of", object=name),
                ]
        for appliance, anchor in self.anchors.items():
            entities.append(self._entity(appliance, "appliance", self.states.get(appliance, {})))
            relations.append(Relation(subject=appliance, relation="at", object=anchor))
        extra = dict(objects or {})
        for name in [*extra, *([holding] if holding else [])]:
            entities.append(self._entity(name, "object", (object_states or {}).get(name, {})))
        for name, container in extra.items():
            relations.append(Relation(subject=name, relation="in", object=container))
        return Perception(
            location=at, room=self.room, holding=holding, entities=tuple(entities), relations=tuple(relations)
        )

    def _entity(self, name: str, kind: EntityKind, states: Mapping[str, bool]) -> PerceivedEntity:
        return PerceivedEntity(
            name=name,
            type=self.type_of(name),
            kind=kind,
            attributes=dict(self.attributes.get(name, {})),
            states=dict(states),
        )


def recall(
    beliefs: Iterable[tuple[str, str, str, float, int]] = (),
    nodes: Iterable[tuple[str, str, str, Mapping[str, bool], Mapping[str, str], int]] = (),
) -> StoreResult:
    """Spatial memory's answer: beliefs ``(subject, relation, object, confidence, episode)`` and nodes
    ``(name, type, kind, states, attributes, episode)``."""
    made = tuple(
        Belief(s, r, o, conf, "observed", Stamp(ep, 0), Stamp(ep, 1)) for s, r, o, conf, ep in beliefs
    )
    states = tuple(
        NodeState(name, type_name, kind, dict(st), Stamp(ep, 1), dict(attrs))
        for name, type_name, kind, st, attrs, ep in nodes
    )
    return StoreResult("spatial", (), SpatialRecall("house", (), made, states))


def history(*steps: str | tuple[str, str]) -> tuple[ExecutedAction, ...]:
    """Executed actions: a bare text succeeded; ``(text, feedback)`` failed with that feedback."""
    out = []
    for i, step in enumerate(steps, start=1):
        if isinstance(step, tuple):
            out.append(ExecutedAction(step[0], f"Last action is invalid. {step[1]}", False, i))
        else:
            out.append(ExecutedAction(step, OK_ALFRED, True, i))
    return tuple(out)


def planning_input(
    the_task: Task,
    skills: tuple[str, ...],
    perception: Perception | None,
    *,
    memory: StoreResult | None = None,
    steps: tuple[ExecutedAction, ...] = (),
) -> PlanningInput:
    observation = Observation(instruction=the_task.instruction, text="", perception=perception)
    stores = {"spatial": memory} if memory is not None else {}
    return PlanningInput(the_task, observation, skills, stores, steps)
