"""Knowledge-graph edges touched per spatial-memory update as the graph grows from 1e2 to 1e5 nodes
(``UpdateStats.touched``: the edges of the local subgraph G_local plus the new relations), against the paper's
"around 10 edges per iteration" (App. B2, Fig. 7).

    python -m bench.graph_locality [--quick] [--sizes 1e2,3e2,...,1e5] [--updates N]
                                   [--embedder minilm|hashing] [--out PATH] [--plot PATH]

One site — a building of many households from the simulator's scene generator, names tagged per household
(``Mug_2_h17``) — grows in steps. Before each measurement window the graph is brought to the window's size
by bulk-writing households as the real update path stores them (``bench._houses.house_rows``); then a robot
runs ``--updates`` real steps through ``SpatialMemory.update`` (deterministic extractor and resolver, the
default spatial configuration, vectors from ``--embedder``): it walks into new households (30%) or back into
known ones, finds receptacles, opens them, picks objects up and puts them down elsewhere, with the
simulator's own ALFRED skill semantics and perception, and the deterministic thalamus' step summaries. Every
update's ``touched`` is recorded; each window reports its median, p95 and max.

The default node budget of a site (``memory.spatial.max_nodes`` = 5000) would evict everything beyond it, so
it is raised here above the largest size: without that the graph could not reach 1e5 nodes at all.

The plot is an SVG drawn without any plotting library (matplotlib is not a dependency of robomem).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._houses import HouseRows, bench_house, house_rows, tag_perception, tagged
from bench._plots import svg_line_plot
from bench._script import (
    RESULTS_DIR,
    bench_main,
    distribution,
    machine_info,
    now_iso,
    parse_counts,
)
from envs.base import Observation
from envs.household.perception import perceive, render_text
from envs.household.profiles import PROFILES
from envs.household.profiles.base import Skill
from envs.household.world import World
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, UpdateStats
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.memory import SpatialMemory
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.embeddings.base import Embedder
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import make_embedder
from robomem.stores.graph_sqlite import NodeRow, SqliteGraphStore

__all__ = ("main", "run")

DEFAULT_OUT = RESULTS_DIR / "graph_locality.json"
PROFILE = "alfred"
SITE = "bench_building"
TARGET_MAX_TOUCHED = 15
#: The paper's figure (App. B2, Fig. 7: EB-ALFRED long-horizon runs, first 20 iterations).
PAPER_TOUCHED = 10
#: Largest ÷ smallest median touched that still counts as "flat".
FLAT_RATIO = 1.5
TEMPLATE_HOUSES = 32
NEW_HOUSE_SHARE = 0.3


@dataclass
class Building:
    """The households of the site: templates walked through once by a real spatial memory (bulk fill), and
    the live worlds of households the robot has walked into (their state persists between visits)."""

    work_dir: Path
    templates: dict[int, HouseRows] = field(default_factory=dict)
    worlds: dict[int, World] = field(default_factory=dict)
    #: Households in the graph, in order (bulk-filled or walked into).
    known: list[int] = field(default_factory=list)

    def rows(self, house: int) -> HouseRows:
        key = house % TEMPLATE_HOUSES
        if key not in self.templates:
            self.templates[key] = house_rows(bench_house(PROFILE, key), self.work_dir / f"template_{key}")
        return self.templates[key].tagged(f"h{house}")

    def world(self, house: int) -> World:
        if house not in self.worlds:
            self.worlds[house] = bench_house(PROFILE, house % TEMPLATE_HOUSES)
        return self.worlds[house]


class Walker:
    """A robot doing small fetch-and-place chores in the households of the building, one real
    ``SpatialMemory.update`` per executed skill."""

    def __init__(self, memory: SpatialMemory, building: Building, rng: random.Random) -> None:
        self.memory = memory
        self.building = building
        self.rng = rng
        self.profile = PROFILES[PROFILE]
        self.thalamus = DeterministicThalamus()
        self.context = EpisodeContext(site=SITE, episode_id="walk", instruction="tidy up the building")
        self.task = Task(
            task_id="walk",
            profile=PROFILE,
            subset="bench",
            task_type="tidy",
            instruction="tidy up",
            scene=SITE,
        )
        self.step = 0
        self.house: int | None = None
        self.stats: list[UpdateStats] = []

    def _act(self, world: World, house: int, skill: Skill) -> bool:
        outcome = self.profile.execute(world, skill)
        tag = f"h{house}"
        text = skill.text if skill.arg is None else skill.text.replace(skill.arg, tagged(skill.arg, tag))
        perception = tag_perception(perceive(world), tag)
        observation = Observation(instruction="tidy up", text=render_text(perception), perception=perception)
        self.step += 1
        last = ExecutedAction(text, outcome.feedback, outcome.success, self.step)
        summary = self.thalamus.perceive(self.context, self.task, self.step, observation, last).summary
        self.stats.append(self.memory.update(summary))
        return outcome.success

    def chore(self, house: int) -> None:
        """Go to a receptacle; open it if closed; pick something up there or put down what is held; now and
        then close it again. Three receptacles per visit; nothing held leaves the household."""
        world = self.building.world(house)
        if self.house != house:
            world.agent_room, world.agent_location, world.put_target = world.rooms[0], None, None
            self.house = house
        places = [
            e.name for e in world.entities.values() if world.is_fixed(e.name) and world.spec(e.name).capacity
        ]
        for _ in range(3):
            place = self.rng.choice(places)
            self._act(world, house, Skill(f"find a {place}", "find", place))
            if world.is_closed(place):
                self._act(world, house, Skill(f"open the {place}", "open", place))
            if world.held is None:
                visible = [n for n, e in world.entities.items() if e.parent == place and world.is_visible(n)]
                if visible:
                    obj = self.rng.choice(sorted(visible))
                    self._act(world, house, Skill(f"pick up the {obj}", "pick", obj))
            elif not self._act(world, house, Skill("put down the object in hand", "put")):
                self._act(world, house, Skill("drop the object in hand", "drop"))
            if world.entities[place].open and self.rng.random() < 0.5:
                self._act(world, house, Skill(f"close the {place}", "close", place))
        if world.held is not None and not self._act(
            world, house, Skill("put down the object in hand", "put")
        ):
            self._act(world, house, Skill("drop the object in hand", "drop"))


def bulk_fill(path: Path, building: Building, embedder: Embedder, *, nodes: int, next_house: int) -> int:
    """Write whole households until the site has at least ``nodes`` vertices; returns the next free
    household number."""
    store = SqliteGraphStore(path)
    try:
        present = store.counts(SITE)["nodes"]
        house = next_house
        while present < nodes:
            rows = building.rows(house)
            vectors = embedder.embed([n.name for n in rows.nodes])
            store.commit(
                SITE,
                upsert_nodes=[
                    NodeRow(n.name, n.data, v.tobytes(), embedder.name)
                    for n, v in zip(rows.nodes, vectors, strict=True)
                ],
                upsert_edges=rows.edges,
            )
            building.known.append(house)
            present += len(rows.nodes)
            house += 1
        return house
    finally:
        store.close()


def window_summary(target: int, stats: Sequence[UpdateStats], seconds: float) -> dict[str, Any]:
    touched = [float(s.touched) for s in stats]
    details = [s.details for s in stats]
    nodes = [int(d["graph_nodes"]) for d in details]
    edges = [int(d["graph_edges"]) for d in details]
    return {
        "target_nodes": target,
        "updates": len(stats),
        "graph_nodes": {"start": min(nodes), "end": max(nodes)},
        "graph_edges": {"start": min(edges), "end": max(edges)},
        "touched": distribution(touched, digits=2),
        "local_nodes": distribution([float(d["local_nodes"]) for d in details], digits=2),
        "seeds": distribution([float(d["seeds"]) for d in details], digits=2),
        "new_relations": distribution([float(d["new_relations"]) for d in details], digits=2),
        "expansion_capped_share": round(sum(bool(d["local_truncated"]) for d in details) / len(details), 4),
        "retrieval_ratio": distribution(
            [s.touched / max(1, e) for s, e in zip(stats, edges, strict=True)], digits=6
        ),
        "update_ms": round(1e3 * seconds / len(stats), 2),
    }


def run(
    *, quick: bool, sizes: Sequence[int], updates: int, embedder_type: str, seed: int, work_dir: Path | None
) -> dict[str, Any]:
    started = time.perf_counter()
    embedder = make_embedder(EmbedderConfig.model_validate({"type": embedder_type}))
    config = SpatialConfig(max_nodes=max(SpatialConfig().max_nodes, 2 * max(sizes) + 10_000))
    rng = random.Random(seed)
    windows = []
    with tempfile.TemporaryDirectory(prefix="robomem-graph-locality-", dir=work_dir) as tmp:
        root = Path(tmp)
        building = Building(root / "templates")
        memory = SpatialMemory(config, memory_dir=root / "memory", embedder=embedder)
        walker = Walker(memory, building, rng)
        next_house = 0
        fill_seconds = 0.0
        try:
            memory.begin_episode(walker.context)
            for target in sizes:
                fill_start = time.perf_counter()
                next_house = bulk_fill(memory.path, building, embedder, nodes=target, next_house=next_house)
                fill_seconds += time.perf_counter() - fill_start
                walker.stats = []
                window_start = time.perf_counter()
                while len(walker.stats) < updates:
                    if not building.known or rng.random() < NEW_HOUSE_SHARE:
                        house, next_house = next_house, next_house + 1
                        building.known.append(house)
                    else:
                        house = rng.choice(building.known)
                    walker.chore(house)
                window = window_summary(target, walker.stats, time.perf_counter() - window_start)
                windows.append(window)
                touched = window["touched"]
                print(
                    f"  {window['graph_nodes']['start']} nodes: touched median {touched['median']}, "
                    f"p95 {touched['p95']}, max {touched['max']}",
                    file=sys.stderr,
                )
        finally:
            memory.close()
    medians = [w["touched"]["median"] for w in windows]
    p95s = [w["touched"]["p95"] for w in windows]
    ratio = medians[-1] / medians[0] if medians and medians[0] else None
    return {
        "benchmark": "graph_locality",
        "quick": quick,
        "description": (
            "edges touched per spatial-memory update (UpdateStats.touched = edges of the induced local "
            "subgraph + new relations) while one site grows; medians and p95 per window of real updates"
        ),
        "embedder": embedder.name,
        "spatial_config": {
            "top_n": config.top_n,
            "hops": config.hops,
            "max_expand": config.max_expand,
            "update_max_expand": config.update_max_expand,
            "summary_query": config.uses_summary_query,
            "max_nodes": config.max_nodes,
            "max_nodes_default": SpatialConfig().max_nodes,
        },
        "updates_per_window": updates,
        "seed": seed,
        "paper_touched_per_update": PAPER_TOUCHED,
        "target": {
            "max_median_touched": TARGET_MAX_TOUCHED,
            "flat_ratio": FLAT_RATIO,
            "median_largest_over_smallest": None if ratio is None else round(ratio, 3),
            "worst_median": max(medians) if medians else None,
            "worst_p95": max(p95s) if p95s else None,
            "met": bool(medians)
            and max(medians) <= TARGET_MAX_TOUCHED
            and ratio is not None
            and ratio <= FLAT_RATIO,
        },
        "windows": windows,
        "bulk_fill_seconds": round(fill_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(),
        "created": now_iso(),
    }


def plot(report: dict[str, Any]) -> str:
    windows = report["windows"]
    x = [float(w["graph_nodes"]["start"]) for w in windows]
    return svg_line_plot(
        {
            "median touched": [(a, float(w["touched"]["median"])) for a, w in zip(x, windows, strict=True)],
            "p95 touched": [(a, float(w["touched"]["p95"])) for a, w in zip(x, windows, strict=True)],
            "max touched": [(a, float(w["touched"]["max"])) for a, w in zip(x, windows, strict=True)],
        },
        title="Spatial memory: KG edges touched per update",
        x_label="graph nodes (log scale)",
        y_label="edges touched per update",
        log_x=True,
        hlines={f"target {TARGET_MAX_TOUCHED}": TARGET_MAX_TOUCHED, f"paper ~{PAPER_TOUCHED}": PAPER_TOUCHED},
    )


def _sizes(text: str) -> list[int]:
    sizes = sorted(set(parse_counts(text, "sizes")))
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plot", type=Path, default=None, help="SVG plot (default: next to --out)")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="graph sizes in nodes (default 1e2,3e2,1e3,3e3,1e4,3e4,1e5; quick 1e2,3e2)",
    )
    parser.add_argument(
        "--updates", type=int, default=None, help="real updates per size (default 200, quick 20)"
    )
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", type=Path, default=None, help="where the graph is built (default: tmp)")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    sizes = args.sizes or ([100, 300] if args.quick else [100, 300, 1_000, 3_000, 10_000, 30_000, 100_000])
    updates = args.updates or (20 if args.quick else 200)
    if updates < 1:
        parser.error("--updates must be >= 1")
    report = run(
        quick=args.quick,
        sizes=sizes,
        updates=updates,
        embedder_type=args.embedder,
        seed=args.seed,
        work_dir=args.work_dir,
    )
    plot_path = args.plot or args.out.with_suffix(".svg")
    report["plot"] = str(plot_path)
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot_path.write_text(plot(report), encoding="utf-8")
    return report


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    target = report["target"]
    first, last = report["windows"][0], report["windows"][-1]
    return (
        f"graph_locality: touched per update median {first['touched']['median']} at "
        f"{first['graph_nodes']['start']} nodes -> {last['touched']['median']} at "
        f"{last['graph_nodes']['start']} nodes (worst p95 {target['worst_p95']}; paper ~{PAPER_TOUCHED}; "
        f"target flat and <= {TARGET_MAX_TOUCHED}: {'met' if target['met'] else 'MISSED'}) "
        f"-> {args.out}, {report['plot']}"
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
