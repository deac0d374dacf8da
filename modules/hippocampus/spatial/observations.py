"""What one step tells spatial memory, before (``Observations``) and after (``Delta``) comparing it with the
graph. Extractors produce observations; the delta keeps only what is new or changed, so a robot standing
still produces an almost empty update."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modules.hippocampus.spatial.graph import EdgeKey, SiteGraph
from modules.hippocampus.spatial.model import PROVENANCE_RANK, Provenance
from modules.hippocampus.spatial.rules import functional_group

if TYPE_CHECKING:
    from modules.hippocampus.spatial.llm_resolve import Edit

__all__ = (
    "Clear",
    "Delta",
    "Fact",
    "NodeInfo",
    "Observations",
    "ProposedEdits",
    "StateObs",
    "diff_against",
)


@dataclass(frozen=True)
class Fact:
    subject: str
    relation: str
    object: str
    provenance: Provenance
    confidence: float

    @property
    def key(self) -> EdgeKey:
        return (self.subject, self.relation, self.object)

    def __str__(self) -> str:
        return f"{self.subject} {self.relation} {self.object}"


@dataclass(frozen=True)
class Clear:
    """Positive evidence of absence: "I hold nothing", "I am at no particular place"."""

    subject: str
    group: str
    reason: str
    provenance: Provenance = "observed"
    #: Objects the clear spares: "I hold only these" (an inventory) clears every other ``holding`` edge.
    keep: tuple[str, ...] = ()

    def covers(self, key: EdgeKey) -> bool:
        """Whether the clear retires the edge ``key`` of its subject's group (not one it spares)."""
        return key[2] not in self.keep


@dataclass(frozen=True)
class StateObs:
    node: str
    state: str
    value: bool
    provenance: Provenance


@dataclass(frozen=True)
class NodeInfo:
    type: str
    kind: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProposedEdits:
    """The conflict resolution a joint extract-and-resolve reply proposed (``resolve_calls: joint``): edits
    to the beliefs it was shown, or why they are unusable. The resolver applies them without another call."""

    edits: tuple[Edit, ...] = ()
    #: The vertices the edits touch: the write-back's local subgraph must include them.
    nodes: frozenset[str] = frozenset()
    #: Why the edits are unusable (the resolver then applies the rules), or ``None``.
    error: str | None = None


@dataclass
class Observations:
    facts: list[Fact] = field(default_factory=list)
    clears: list[Clear] = field(default_factory=list)
    states: list[StateObs] = field(default_factory=list)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    #: Names perceived this step; ``None`` when the step had no structured perception (no negative evidence).
    perceived: frozenset[str] | None = None
    #: Containers whose whole contents were in view this step (the agent's open place, visible objects).
    visible: frozenset[str] = frozenset()
    #: Edits proposed in the same model call (joint extraction), or ``None``.
    proposed: ProposedEdits | None = None

    def kind_of(self, name: str, graph: SiteGraph) -> str:
        info = self.nodes.get(name)
        if info is not None and info.kind != "unknown":
            return info.kind
        return graph.kind_of(name)

    def merged(self, graph: SiteGraph) -> Observations:
        """Drop facts whose subject and functional group a better-ranked fact (or a clear) of this same step
        already covers: perception beats what the action implies, which beats text."""
        best: dict[tuple[str, str], int] = {}
        for clear in self.clears:
            best[(clear.subject, clear.group)] = PROVENANCE_RANK[clear.provenance]
        groups: list[str | None] = []
        for fact in self.facts:
            group = functional_group(fact.relation, self.kind_of(fact.object, graph))
            groups.append(group)
            if group is not None:
                slot = (fact.subject, group)
                best[slot] = max(best.get(slot, -1), PROVENANCE_RANK[fact.provenance])
        facts: list[Fact] = []
        seen: set[EdgeKey] = set()
        for fact, group in zip(self.facts, groups, strict=True):
            if fact.key in seen:
                continue
            if group is not None and PROVENANCE_RANK[fact.provenance] < best[(fact.subject, group)]:
                continue
            seen.add(fact.key)
            facts.append(fact)
        states: dict[tuple[str, str], StateObs] = {}
        for obs in self.states:
            slot = (obs.node, obs.state)
            old = states.get(slot)
            if old is None or PROVENANCE_RANK[obs.provenance] >= PROVENANCE_RANK[old.provenance]:
                states[slot] = obs
        # A clear survives only when no better-ranked fact of this step fills the same slot (a clear that
        # spares some edges says what else is not there: it stands beside the facts about those edges).
        fact_rank: dict[tuple[str, str], int] = {}
        for fact, group in zip(facts, groups_of(facts, self, graph), strict=True):
            if group is not None:
                slot = (fact.subject, group)
                fact_rank[slot] = max(fact_rank.get(slot, -1), PROVENANCE_RANK[fact.provenance])
        clears = [
            c
            for c in self.clears
            if c.keep or PROVENANCE_RANK[c.provenance] > fact_rank.get((c.subject, c.group), -1)
        ]
        return Observations(
            facts, clears, list(states.values()), self.nodes, self.perceived, self.visible, self.proposed
        )


def groups_of(facts: list[Fact], obs: Observations, graph: SiteGraph) -> list[str | None]:
    return [functional_group(f.relation, obs.kind_of(f.object, graph)) for f in facts]


@dataclass
class Delta:
    """The observations minus what the graph already believes."""

    new: list[Fact] = field(default_factory=list)
    confirmed: list[Fact] = field(default_factory=list)
    clears: list[Clear] = field(default_factory=list)
    state_changes: list[StateObs] = field(default_factory=list)
    state_confirms: list[StateObs] = field(default_factory=list)
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    perceived: frozenset[str] | None = None
    visible: frozenset[str] = frozenset()
    proposed: ProposedEdits | None = None

    def new_nodes(self, graph: SiteGraph) -> set[str]:
        """V_new: the vertices of what changed (Algorithm 2's G_new), plus brand-new vertices."""
        names: set[str] = set()
        for fact in self.new:
            names.update((fact.subject, fact.object))
        names.update(c.subject for c in self.clears)
        names.update(s.node for s in self.state_changes)
        names.update(n for n in self.nodes if n not in graph)
        return names


def diff_against(obs: Observations, graph: SiteGraph) -> Delta:
    delta = Delta(nodes=obs.nodes, perceived=obs.perceived, visible=obs.visible, proposed=obs.proposed)
    for fact in obs.facts:
        # Re-seeing a belief only refreshes it: it cannot conflict with anything.
        (delta.confirmed if graph.edge(*fact.key) is not None else delta.new).append(fact)
    for clear in obs.clears:
        if any(
            graph.group_of(k) == clear.group and clear.covers(k) for k, _ in graph.out_edges(clear.subject)
        ):
            delta.clears.append(clear)
    for state in obs.states:
        node = graph.get_node(state.node)
        value = None if node is None else node.states.get(state.state)
        if value is not None and value.value == state.value:
            delta.state_confirms.append(state)
        else:
            delta.state_changes.append(state)
    return delta
