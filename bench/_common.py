"""Helpers shared by the benchmark scripts: the machine description, robust statistics, JSON output, a
standard command line, and a dependency-free SVG line plot.

Every script writes one JSON report (``results/bench/<name>.json`` by default) holding ``machine``
(:func:`machine_info`) and ``created``; figures are medians (and p95 where stated) over repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

# The statistics live in the core, so `robomem report` prints the same numbers as the benchmarks.
from robomem.eval.stats import fmt_mean, fmt_rate, markdown_table, mean_ci, outcome_stats

if TYPE_CHECKING:
    from envs.base import Observation, Perception
    from envs.household.world import World
    from envs.task import Task
    from modules.prefrontal.base import ExecutedAction
    from robomem.eval.metrics import Summary
    from robomem.eval.results import EpisodeRecord
    from robomem.stores.graph_sqlite import EdgeRow, NodeRow
    from robomem.testing.scripted_llm import RecordedRequest, Rule

__all__ = (
    "AGENT_NODE",
    "MEMORY_ROLE_STORES",
    "RESULTS_DIR",
    "GoldEpisode",
    "GoldStep",
    "HarnessRun",
    "HouseRows",
    "add_standard_args",
    "bench_house",
    "distribution",
    "eval_command",
    "fmt_mean",
    "fmt_rate",
    "gold_episodes",
    "house_rows",
    "machine_info",
    "markdown_table",
    "mean_ci",
    "memory_reply_rules",
    "now_iso",
    "outcome_stats",
    "parse_counts",
    "percentile",
    "run_harness",
    "svg_bar_chart",
    "svg_line_plot",
    "svg_stack",
    "tag_perception",
    "tagged",
    "total_ram_bytes",
    "walk_through",
    "write_json",
)

RESULTS_DIR = Path("results/bench")


def total_ram_bytes() -> int | None:
    """Physical memory in bytes (POSIX ``sysconf``), or ``None`` where unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info() -> dict[str, Any]:
    """Cores, RAM, CPU model, Python, numpy, platform, load average and the date: enough to know which
    machine a figure came from (figures are only comparable within one machine and one run)."""
    ram = total_ram_bytes()
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(affinity) if affinity is not None else None,
        "cpu_model": _cpu_model(),
        "ram_gb": None if ram is None else round(ram / 2**30, 2),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "date": now_iso(),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def distribution(values: Sequence[float], *, scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
    """``{"n", "median", "p95", "mean", "min", "max"}`` of ``values`` times ``scale`` (e.g. 1e3 for ms),
    rounded to ``digits``; the numbers are ``None`` when there are no values."""
    if not values:
        return {"n": 0, "median": None, "p95": None, "mean": None, "min": None, "max": None}
    scaled = [v * scale for v in values]
    return {
        "n": len(scaled),
        "median": round(statistics.median(scaled), digits),
        "p95": round(percentile(scaled, 95), digits),
        "mean": round(statistics.fmean(scaled), digits),
        "min": round(min(scaled), digits),
        "max": round(max(scaled), digits),
    }


def add_standard_args(parser: argparse.ArgumentParser, default_out: Path) -> None:
    """``--out`` and ``--quick``, as every benchmark script takes them."""
    parser.add_argument("--out", type=Path, default=default_out, help=f"JSON output (default {default_out})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny CI-sized run (numbers are not meaningful)"
    )


def parse_counts(text: str, what: str) -> list[int]:
    """``"1e3,1e4,1e5"`` → ``[1000, 10000, 100000]`` (in the given order), for ``argparse`` types."""
    try:
        return [int(float(part)) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of {what}: {text!r}") from None


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")


# ---- a tiny SVG line plot (matplotlib is not a dependency) ----------------------------------------------
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-2):
        return f"{value:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{value:g}"


def svg_line_plot(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    hlines: dict[str, float] | None = None,
    width: int = 640,
    height: int = 400,
) -> str:
    """An SVG document plotting each named series of ``(x, y)`` points as a line with markers, plus
    labelled dashed horizontal reference lines (targets). ``log_x`` uses a base-10 x axis."""
    hlines = hlines or {}
    points = [p for pts in series.values() for p in pts]
    xs = [math.log10(x) if log_x else x for x, _ in points if not log_x or x > 0]
    ys = [y for _, y in points] + list(hlines.values())
    if not xs or not ys:
        xs, ys = [0.0, 1.0], [0.0, 1.0]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    wanted = max(ys) * 1.1 if max(ys) > 0 else 1.0
    y_ticks = _nice_ticks(min(0.0, min(ys)), wanted)
    if len(y_ticks) > 1 and y_ticks[-1] < wanted:  # the ticks stop at the last step below the top
        y_ticks.append(y_ticks[-1] + (y_ticks[1] - y_ticks[0]))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    left, right, top, bottom = 70, 20, 56, 55
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        value = math.log10(x) if log_x else x
        return left + (value - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    if log_x:
        x_ticks = [10.0**e for e in range(math.floor(x_lo), math.ceil(x_hi) + 1)]
    else:
        x_ticks = _nice_ticks(x_lo, x_hi)
    for tick in x_ticks:
        x = px(tick)
        if left - 1 <= x <= left + plot_w + 1:
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#f0f0f0"/>')
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{_fmt(tick)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">{escape(y_label)}</text>'
    )
    for i, (label, value) in enumerate(hlines.items()):
        y = py(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#888" '
            'stroke-dasharray="6 4"/>'
        )
        # Alternate ends (right above the line, left below it) so nearby reference lines stay readable.
        x, anchor, dy = (left + plot_w - 4, "end", -4) if i % 2 == 0 else (left + 4, "start", 13)
        out.append(
            f'<text x="{x}" y="{y + dy:.1f}" text-anchor="{anchor}" fill="#555">{escape(label)}</text>'
        )
    for i, (label, pts) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = [(px(x), py(y)) for x, y in pts if not log_x or x > 0]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in coords]
        # The legend sits in a row between the title and the plot, clear of the data.
        out.append(
            f'<rect x="{left + 170 * i}" y="{top - 20}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{left + 170 * i + 16}" y="{top - 14}" fill="{colour}">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- household episodes and scripted memory replies (parallel_memory, llm_cost) -------------------------
# Imports of the simulator and the memory modules happen inside the functions, so scripts that only need the
# statistics above do not pay for them.


@dataclass(frozen=True)
class GoldStep:
    """One step of a solved episode: the observation after it and the action that led there (``None`` for
    the reset observation, step 0)."""

    step: int
    observation: Observation
    action: ExecutedAction | None


@dataclass(frozen=True)
class GoldEpisode:
    """A household task solved by the privileged oracle, replayed so every step has its real observation."""

    profile: str
    task: Task
    steps: tuple[GoldStep, ...]
    #: The action list the agent is shown for this task (``env.skills`` after the reset).
    skills: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action.action for s in self.steps if s.action is not None)


def gold_episodes(
    profile: str, subset: str, count: int, *, start: int = 0, tasks: Sequence[Task] | None = None
) -> list[GoldEpisode]:
    """``count`` tasks of a committed household suite (from index ``start``), or the given ``tasks``, each
    solved by the oracle and replayed step by step. Deterministic: the same arguments give the same
    episodes."""
    from envs.household.config import HouseholdConfig
    from envs.household.env import HouseholdEnv
    from envs.household.oracle import solve
    from modules.prefrontal.base import ExecutedAction

    env = HouseholdEnv(HouseholdConfig(profile=profile))
    suite = env.tasks(subset)
    chosen = (
        list(tasks) if tasks is not None else [suite[i % len(suite)] for i in range(start, start + count)]
    )
    episodes = []
    for task in chosen:
        env.reset(task)
        actions = solve(env)
        steps = [GoldStep(0, env.reset(task), None)]
        skills = env.skills
        for action in actions:
            result = env.step(action)
            info = result.info
            done = ExecutedAction(action, info["env_feedback"], info["last_action_success"], info["env_step"])
            steps.append(GoldStep(info["env_step"], result.observation, done))
        episodes.append(GoldEpisode(profile, task, tuple(steps), tuple(skills)))
    env.close()
    return episodes


#: Which memory store each LLM role of the memory operations belongs to.
MEMORY_ROLE_STORES: dict[str, str] = {
    "memory.temporal": "temporal",
    "memory.spatial.relations": "spatial",
    "memory.spatial.resolve": "spatial",
    "memory.spatial.update": "spatial",
    "memory.episodic.creator": "episodic",
    "memory.episodic": "episodic",
    "memory.lessons": "semantic",
    "memory.semantic": "semantic",
}

_ROOM = re.compile(r"(Kitchen|Bathroom|Bedroom|Hallway|Garage|Office|Room)(_\d+)?$")
_INSIDE = re.compile(r"^(Cabinet|Drawer|Fridge|Microwave|Sink|SinkBasin|GarbageCan|Box|Safe|Bathtub)")
_LOCATED = frozenset({"in", "on", "at", "under"})


def _section(text: str, start: str, end: str | None = None) -> str:
    """The text after the last ``start`` (up to ``end`` when given); empty when ``start`` is absent."""
    _, found, tail = text.rpartition(start)
    if not found:
        return ""
    return tail.split(end, 1)[0] if end else tail


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def _reply_temporal(request: RecordedRequest) -> str:
    entries = _section(request.last_user_text, "oldest first:\n", "\n\nReply")
    parts = [_first_sentence(re.sub(r"^\[steps? [\d-]+\]\s*", "", line)) for line in entries.splitlines()]
    words = " ".join(p for p in parts if p).split()
    return json.dumps({"summary": " ".join(words[-60:]) or "Nothing happened yet."})


def _relations_from_summary(summary: str) -> dict[str, Any]:
    """The spatial facts a first-person step summary states ("I am at X in the Y. I see A, B. I hold C.")."""
    relations: list[dict[str, str]] = []
    entities: dict[str, str] = {}
    place = None
    at = re.search(r"I am at (\S+?) in the (\S+?)[.,]", summary)
    room = (
        at.group(2) if at else (m.group(1) if (m := re.search(r"I am in the (\S+?)[.,]", summary)) else None)
    )
    if at:
        place = at.group(1)
        relations.append({"subject": "I", "relation": "at", "object": place})
        entities[place] = "receptacle"
    if room:
        relations.append({"subject": "I", "relation": "in", "object": room})
        entities[room] = "place"
    seen = re.search(r"I see ([^.]+)\.", summary)
    if seen and place:
        relation = "in" if _INSIDE.match(place) else "on"
        for name in (n.strip() for n in seen.group(1).split(",")):
            if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                relations.append({"subject": name, "relation": relation, "object": place})
                entities[name] = "object"
    held = re.search(r"I hold (\S+?)\.", summary)
    if held:
        relations.append({"subject": "I", "relation": "holding", "object": held.group(1)})
        entities[held.group(1)] = "object"
    return {
        "relations": relations,
        "states": [],
        "entities": [{"name": n, "kind": k} for n, k in entities.items()],
        "holding_nothing": "hand is empty" in summary,
    }


def _reply_spatial_relations(request: RecordedRequest) -> str:
    summary = _section(request.last_user_text, "\nSummary:", "\n").strip()
    return json.dumps(_relations_from_summary(summary))


def _supersede_edits(edges: list[tuple[str, str, str, str]], facts: list[tuple[str, str, str]]) -> list[Any]:
    """Supersede every stored belief ``(id, subject, relation, object)`` a new fact contradicts (one
    location, one room, one holder per thing, a held thing in no container) — what a careful model would
    answer."""

    def group(relation: str, obj: str) -> str:
        if relation in _LOCATED:
            return "room" if _ROOM.search(obj) else "location"
        return relation

    edits = []
    for edge_id, subject, relation, obj in edges:
        for f_subject, f_relation, f_obj in facts:
            if (subject, relation, obj) == (f_subject, f_relation, f_obj):
                continue
            same_slot = subject == f_subject and group(relation, obj) == group(f_relation, f_obj)
            now_held = f_relation == "holding" and subject == f_obj and group(relation, obj) == "location"
            put_away = relation == "holding" and obj == f_subject and group(f_relation, f_obj) == "location"
            if same_slot or now_held or put_away:
                edits.append(
                    {"op": "supersede", "edge": edge_id, "reason": f"now {f_subject} {f_relation} {f_obj}"}
                )
                break
    return edits


_TRIPLE = r"(\S+) (\S+) (\S+) \("


def _reply_spatial_resolve(request: RecordedRequest) -> str:
    text = request.last_user_text
    edges = re.findall(r"^(e\d+): " + _TRIPLE, _section(text, "Existing beliefs", "New facts:"), re.M)
    facts = re.findall(r"^- " + _TRIPLE, _section(text, "New facts:", "Things seen"), re.M)
    return json.dumps({"edits": _supersede_edits(edges, facts)})


def _reply_spatial_update(request: RecordedRequest) -> str:
    """The joint call: the relations of the step summary, and the edits they make to the beliefs shown."""
    text = request.last_user_text
    summary = _section(text, "\nSummary:", "\n").strip()
    reply = _relations_from_summary(summary)
    edges = re.findall(r"^(e\d+): " + _TRIPLE, _section(text, "Stored beliefs", "A thing has"), re.M)
    facts = [(r["subject"], r["relation"], r["object"]) for r in reply["relations"]]
    edits = _supersede_edits(edges, facts)
    if reply["holding_nothing"]:  # "My hand is empty": what the robot was believed to hold is no longer held
        taken = {e["edge"] for e in edits}
        edits += [
            {"op": "supersede", "edge": e, "reason": "hand empty"}
            for e, s, r, _ in edges
            if s == "I" and r == "holding" and e not in taken
        ]
    reply["edits"] = edits
    return json.dumps(reply)


def _reply_decide(request: RecordedRequest) -> str:
    text = request.last_user_text
    candidate = _section(text, "New item:\n", "\n\nStored items").strip()
    for item_id, stored in re.findall(r"^- id=(\S+): (.*)$", _section(text, "Stored items"), re.M):
        if stored.strip() == candidate:
            return json.dumps({"op": "NOOP", "target_id": item_id, "text": None, "reason": "already known"})
    return json.dumps({"op": "ADD", "target_id": None, "text": None, "reason": "new"})


def _reply_lessons(request: RecordedRequest) -> str:
    text = request.last_user_text
    site = m.group(1) if (m := re.search(r"about this house \(([^)]*)\)", text)) else "this house"
    lessons: list[dict[str, str | None]] = []
    for verb, feedback in re.findall(
        r"^\d+\. (\S+ ?\S*) .*-> FAILED: (.*)$", _section(text, "Trajectory:"), re.M
    ):
        lessons.append({"level": "action", "text": f"'{verb}' can fail: {_first_sentence(feedback)}"})
    for thing in re.findall(r"^\d+\. pick up the (\S+) -> ok$", _section(text, "Trajectory:"), re.M):
        lessons.append({"level": "task", "text": f"In {site}, a {thing.split('_')[0]} could be picked up."})
    if "Lessons already stored" in text:  # the joint call: each lesson's decision against the lessons shown
        stored = re.findall(r"^- id=(\S+) \[(\w+)\]: (.*)$", _section(text, "Lessons already stored"), re.M)
        for lesson in lessons:
            same = [i for i, level, t in stored if level == lesson["level"] and t.strip() == lesson["text"]]
            lesson["op"], lesson["target_id"] = ("NOOP", same[0]) if same else ("ADD", None)
    return json.dumps({"lessons": lessons[:4]})


def memory_reply_rules() -> list[Rule]:
    """Scripted replies for every LLM memory operation, computed from the prompt so they are valid and
    plausible: temporal compression, spatial relation extraction and conflict resolution (two calls, or one
    joint call), the long-term
    ADD/UPDATE/DELETE/NOOP decision and lesson creation."""
    from bench.llm_replies import episode_account
    from robomem.testing.scripted_llm import Rule

    return [
        Rule(role="memory.temporal", reply=_reply_temporal),
        Rule(role="memory.spatial.relations", reply=_reply_spatial_relations),
        Rule(role="memory.spatial.resolve", reply=_reply_spatial_resolve),
        Rule(role="memory.spatial.update", reply=_reply_spatial_update),
        Rule(role="memory.episodic.creator", reply=episode_account),
        Rule(role="memory.episodic", reply=_reply_decide),
        Rule(role="memory.semantic", reply=_reply_decide),
        Rule(role="memory.lessons", reply=_reply_lessons),
    ]


# ---- agent evaluations through the real harness (competence, cumulative_learning) -----------------------
# robomem is imported inside the functions, like the simulator above.


@dataclass(frozen=True)
class HarnessRun:
    """One ``evaluate`` run: its folder, the harness' summary, every episode's result (subset by subset, in
    the order they ran) and the actions each episode executed (same order), and the wall-clock time."""

    run_dir: Path
    overrides: tuple[str, ...]
    summary: Summary
    records: tuple[EpisodeRecord, ...]
    actions: tuple[tuple[str, ...], ...]
    elapsed_s: float


def run_harness(overrides: Sequence[str], run_dir: Path) -> HarnessRun:
    """Evaluate the config that ``overrides`` (``dotted.key=value``, as on the ``robomem eval`` command line)
    make from the defaults, with the real harness, in ``run_dir`` (created; must be new or empty). Writes the
    resolved ``config.yaml`` there as ``robomem eval`` does; the agent's memory starts empty in
    ``<run_dir>/memory`` unless the overrides set ``agent.memory.dir``."""
    import io
    import time

    import yaml

    from envs.registry import ENVS
    from robomem.agents import AGENTS
    from robomem.config import dump_config, load_config
    from robomem.eval.harness import evaluate, plan_episodes, step_log_path
    from robomem.eval.results import EpisodeRecord, episode_result_path

    if run_dir.exists() and any(run_dir.iterdir()):
        raise FileExistsError(f"run folder {run_dir} is not empty")
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = load_config(None, [*overrides, f"run.dir={json.dumps(str(run_dir))}"])
    (run_dir / "config.yaml").write_text(
        yaml.safe_dump(dump_config(cfg), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    started = time.perf_counter()
    with ENVS.build(cfg.env) as env:
        agent = AGENTS.build(cfg.agent)
        plan_episodes(cfg, env)  # a bad selection fails here, before any episode
        # The harness' closing line would interleave with the script's own progress lines.
        summary = evaluate(cfg, env, agent, run_dir, progress=False, stream=io.StringIO())
    elapsed = time.perf_counter() - started
    records: list[EpisodeRecord] = []
    actions: list[tuple[str, ...]] = []
    for subset, stats in summary.subsets.items():
        for n in range(1, stats.n + 1):
            text = episode_result_path(run_dir, subset, n).read_text(encoding="utf-8")
            records.append(EpisodeRecord.model_validate_json(text))
            steps = json.loads(step_log_path(run_dir, subset, n).read_text(encoding="utf-8"))
            actions.append(tuple(str(step["action"]) for step in steps))
    return HarnessRun(run_dir, tuple(overrides), summary, tuple(records), tuple(actions), elapsed)


def eval_command(overrides: Sequence[str]) -> str:
    """The ``robomem eval`` command line that runs the same config (into an automatic run folder)."""
    import shlex

    return " ".join(["robomem", "eval", "--no-progress", *(shlex.quote(item) for item in overrides)])


def svg_bar_chart(
    groups: Sequence[str],
    series: dict[str, Sequence[tuple[float, Sequence[float] | None]]],
    *,
    title: str,
    y_label: str,
    y_max: float | None = None,
    width: int = 760,
    height: int = 340,
) -> str:
    """An SVG document of grouped bars: one group per entry of ``groups`` (``\\n`` breaks a label), one bar
    per series in each, each value ``(height, (low, high) or None)`` with the interval drawn as a whisker."""
    values = [v for vals in series.values() for v in vals]
    top_value = max([v for v, _ in values] + [ci[1] for _, ci in values if ci is not None] + [0.0])
    wanted = y_max if y_max is not None else (top_value * 1.1 or 1.0)
    y_ticks = _nice_ticks(0.0, wanted)
    if len(y_ticks) > 1 and y_ticks[-1] < wanted:  # the ticks stop at the last step below the top
        y_ticks.append(y_ticks[-1] + (y_ticks[1] - y_ticks[0]))
    y_hi = y_ticks[-1]
    left, right, top, bottom = 60, 20, 48, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(groups))
    bar_w = slot * 0.7 / max(1, len(series))

    def py(y: float) -> float:
        return top + plot_h - max(0.0, min(y, y_hi)) / y_hi * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    for g, label in enumerate(groups):
        x0 = left + slot * g + slot * 0.15
        for s, vals in enumerate(series.values()):
            value, ci = vals[g]
            x = x0 + bar_w * s
            colour = _COLOURS[s % len(_COLOURS)]
            out.append(
                f'<rect x="{x:.1f}" y="{py(value):.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{py(0.0) - py(value):.1f}" fill="{colour}" fill-opacity="0.8"/>'
            )
            if ci is not None:
                mid = x + bar_w * 0.46
                lo, hi = py(ci[0]), py(ci[1])
                out.append(f'<line x1="{mid:.1f}" y1="{lo:.1f}" x2="{mid:.1f}" y2="{hi:.1f}" stroke="#222"/>')
                out += [
                    f'<line x1="{mid - 4:.1f}" y1="{y:.1f}" x2="{mid + 4:.1f}" y2="{y:.1f}" stroke="#222"/>'
                    for y in (lo, hi)
                ]
        centre = left + slot * (g + 0.5)
        for i, part in enumerate(label.split("\n")):
            out.append(
                f'<text x="{centre:.1f}" y="{top + plot_h + 15 + 13 * i}" text-anchor="middle">'
                f"{escape(part)}</text>"
            )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2})">{escape(y_label)}</text>'
    )
    for s, name in enumerate(series):
        x = left + 8 + 110 * s
        out.append(
            f'<rect x="{x}" y="{top - 16}" width="10" height="10" fill="{_COLOURS[s % len(_COLOURS)]}"/>'
        )
        out.append(f'<text x="{x + 14}" y="{top - 7}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_stack(charts: Sequence[tuple[str, int, int]]) -> str:
    """One SVG document showing ``(svg, width, height)`` charts one below the other."""
    width = max((w for _, w, _ in charts), default=0)
    height = sum(h for _, _, h in charts)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    ]
    y = 0
    for doc, _, h in charts:
        out.append(f'<g transform="translate(0 {y})">')
        out.append(doc.strip())
        out.append("</g>")
        y += h
    out.append("</svg>")
    return "\n".join(out) + "\n"


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
        holding=t(perception.holding),
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
