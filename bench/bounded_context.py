"""Planner prompt tokens per call at lifetime steps 10, 1e3 and 1e4 of one long lifelong run: memory grows,
the prompt must not (target: step-1e4 ÷ step-10 ≤ 1.2).

    python -m bench.bounded_context [--quick] [--steps N] [--probes 10,1e3,1e4] [--window K]
                                    [--tasks lifelong|lifelong+suites] [--out PATH]

The real ``RoboMemoryAgent`` (default configuration: symbolic planner, deterministic critic and thalamus, the
four stores with MiniLM and Chroma) lives through the household simulator's lifelong sequences (ALFRED
profile, five houses × ten tasks), repeated until the lifetime step count passes the last probe, with two
objects moved by "someone else" between tasks (as ``configs/lifelong.yaml``; seeds differ per repetition).
One memory directory serves the whole run, so memory accumulates. Repeating the same 50 tasks, long-term
memory stops growing once every task has been consolidated (episodic and semantic memory merge repeats);
``--tasks lifelong+suites`` adds the 300 tasks of the evaluation suites (each from its house's initial
state), so retrievable memory keeps growing for much longer.

At every planner call the symbolic planner's input — the same ``PlanningInput`` an LLM planner would get,
with the memory retrieved at that step — is also rendered with the LLM planner's prompt
(``LLMPlanner.prompt``, default ``LLMPlannerConfig``) and measured: characters, tokens estimated as
``ceil(chars / 4)`` (the estimate robomem itself uses, e.g. spatial memory's token budget) and, as a
cross-check, the number of WordPiece tokens of the MiniLM tokenizer (uncased BERT vocabulary, no truncation;
a GPT-style tokenizer would give yet another count). The prompt is never sent anywhere.

A probe at lifetime step ``s`` is the median over the ``--window`` planner calls nearest to ``s``. Which
house the robot is in at step ``s`` changes the skill list (it names every instance of the house), so the
report also compares each late probe with the first-attempt calls of the same tasks ("same tasks").
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._plots import svg_line_plot
from bench._script import RESULTS_DIR, bench_main, machine_info, now_iso, parse_counts
from envs.base import StepResult
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from envs.wrapper import EnvWrapper
from modules.hippocampus.config import MemoryConfig
from modules.prefrontal.base import Plan, Planner, PlanningInput
from modules.prefrontal.llm_planner import LLMPlanner, LLMPlannerConfig
from modules.prefrontal.prompting import clip, history_section, memory_section, temporal_last_step
from robomem.llm.stub import StubLLMClient

__all__ = ("main", "run")

DEFAULT_OUT = RESULTS_DIR / "bounded_context.json"
PROFILE = "alfred"
TARGET_RATIO = 1.2
PERTURB_K = 2


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class WordPieces:
    """Token counts of the MiniLM (uncased BERT WordPiece) tokenizer, without its 256-token truncation."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from robomem.embeddings.minilm import find_model_dir

        self.tokenizer = Tokenizer.from_file(str(find_model_dir() / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)


@dataclass(frozen=True)
class Call:
    """One planner call: when (lifetime step, episode, task) and how big its prompt would be."""

    lifetime_step: int
    episode: int
    attempt: int
    task_id: str
    chars: int
    tokens: int
    wordpieces: int
    #: Characters per prompt part (``template``: everything fixed around the variable parts).
    sections: dict[str, int]
    #: Lines each memory store returned (before the prompt's per-store character budget).
    retrieved_lines: dict[str, int]
    retrieved_chars: dict[str, int]


@dataclass
class Lifetime:
    """Where the robot is in its life: environment steps so far, the current episode and task."""

    steps: int = 0
    episode: int = 0
    attempt: int = 0
    task_id: str = ""
    calls: list[Call] = field(default_factory=list)


class LifetimeEnv(EnvWrapper):
    """Forwards to the household env, counting every executed step of the robot's life."""

    def __init__(self, inner: HouseholdEnv, life: Lifetime) -> None:
        super().__init__(inner, owns_inner=False)
        self.life = life

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        result = self.inner.step(action, timeout_s=timeout_s)
        self.life.steps += 1
        return result


class PromptProbe:
    """The agent's planner, unchanged, plus a measurement of the LLM planner's prompt for the same input."""

    def __init__(self, inner: Planner, life: Lifetime, wordpieces: WordPieces) -> None:
        self.inner = inner
        self.life = life
        self.wordpieces = wordpieces
        self.llm = LLMPlanner(LLMPlannerConfig(), llm=StubLLMClient(lambda _messages, _role: "{}"))

    def plan(self, inp: PlanningInput) -> Plan:
        self.life.calls.append(self.measure(inp))
        return self.inner.plan(inp)

    def measure(self, inp: PlanningInput) -> Call:
        cfg = self.llm.config
        prompt = self.llm.prompt(inp)
        sections = {
            "skills": len("\n".join(f"action id {i}: {skill}" for i, skill in enumerate(inp.skills))),
            "instruction": len(inp.task.instruction.strip()),
            "observation": len(clip(inp.observation.text, cfg.observation_chars)),
            "memory": len(memory_section(inp.memory, cfg.memory_chars, recall_tokens=cfg.recall_tokens)),
            "history": len(
                history_section(
                    inp.history,
                    inp.skills,
                    max_steps=cfg.history_steps,
                    chars=cfg.history_chars,
                    after_step=temporal_last_step(inp.memory) if cfg.history == "after_temporal" else None,
                )
            ),
            "reflection": len(clip(inp.reflection, cfg.reflection_chars)) if inp.reflection else 0,
        }
        sections["template"] = len(prompt) - sum(sections.values())
        return Call(
            lifetime_step=self.life.steps,
            episode=self.life.episode,
            attempt=self.life.attempt,
            task_id=self.life.task_id,
            chars=len(prompt),
            tokens=estimate_tokens(prompt),
            wordpieces=self.wordpieces.count(prompt),
            sections=sections,
            retrieved_lines={name: len(result.lines) for name, result in inp.memory.items()},
            retrieved_chars={name: len(result.text) for name, result in inp.memory.items()},
        )


def memory_size(memory_dir: Path, agent: Any) -> dict[str, Any]:
    """How much the robot remembers: long-term items, and the spatial graph's rows over all houses."""
    size: dict[str, Any] = {}
    memory = agent.memory
    for name in ("episodic", "semantic"):
        size[f"{name}_items"] = memory[name].index.store.count()
    with sqlite3.connect(f"file:{memory_dir / 'spatial.sqlite'}?mode=ro", uri=True) as conn:
        for table in ("nodes", "edges", "history"):
            size[f"spatial_{table}"] = int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
        size["spatial_sites"] = int(conn.execute("SELECT COUNT(*) FROM sites").fetchone()[0])
    archives = [memory_dir / "episodic_archive.jsonl", memory_dir / "semantic_archive.jsonl"]
    size["archived_records"] = sum(
        len(p.read_text(encoding="utf-8").splitlines()) for p in archives if p.exists()
    )
    raw = memory_dir / "episodes.jsonl"
    size["raw_episodes"] = len(raw.read_text(encoding="utf-8").splitlines()) if raw.exists() else 0
    return size


def _median(values: Sequence[float]) -> float:
    return round(float(statistics.median(values)), 1) if values else math.nan


def probe_summary(calls: Sequence[Call], step: int, window: int) -> dict[str, Any]:
    nearest = sorted(calls, key=lambda c: (abs(c.lifetime_step - step), c.lifetime_step))[:window]
    nearest.sort(key=lambda c: c.lifetime_step)
    sections = sorted({s for c in nearest for s in c.sections})
    stores = sorted({s for c in nearest for s in c.retrieved_lines})
    return {
        "step": step,
        "calls": len(nearest),
        "lifetime_steps": [nearest[0].lifetime_step, nearest[-1].lifetime_step] if nearest else None,
        "tasks": sorted({c.task_id for c in nearest}),
        "tokens_median": _median([c.tokens for c in nearest]),
        "tokens_max": max((c.tokens for c in nearest), default=None),
        "wordpieces_median": _median([c.wordpieces for c in nearest]),
        "chars_median": _median([c.chars for c in nearest]),
        "section_chars_median": {s: _median([c.sections.get(s, 0) for c in nearest]) for s in sections},
        "retrieved_lines_median": {
            s: _median([c.retrieved_lines.get(s, 0) for c in nearest]) for s in stores
        },
        "retrieved_chars_median": {
            s: _median([c.retrieved_chars.get(s, 0) for c in nearest]) for s in stores
        },
    }


def same_task_ratio(calls: Sequence[Call], probe: dict[str, Any], window: int) -> dict[str, Any] | None:
    """The probe's median against the first-attempt calls of the same tasks (same houses, same skills)."""
    lo, hi = probe["lifetime_steps"]
    late = [c for c in calls if lo <= c.lifetime_step <= hi][:window]
    tasks = {c.task_id for c in late}
    first = [c for c in calls if c.attempt == 1 and c.task_id in tasks]
    if not late or not first or min(c.attempt for c in late) == 1:
        return None
    early_tokens, late_tokens = (
        statistics.median(c.tokens for c in first),
        statistics.median(c.tokens for c in late),
    )
    sections = sorted({s for c in late for s in c.sections})
    return {
        "first_attempt_calls": len(first),
        "first_attempt_tokens_median": round(early_tokens, 1),
        "tokens_median": round(late_tokens, 1),
        "ratio": round(late_tokens / early_tokens, 3),
        "memory_chars_ratio": round(
            statistics.median(c.sections["memory"] for c in late)
            / max(1.0, statistics.median(c.sections["memory"] for c in first)),
            3,
        ),
        "section_chars_median_first_attempt": {
            s: _median([c.sections.get(s, 0) for c in first]) for s in sections
        },
    }


@dataclass(frozen=True)
class Block:
    """Tasks run back to back: a lifelong sequence keeps its house (objects moved between tasks); a suite
    block restarts the house for every task. Memory always carries over."""

    name: str
    tasks: tuple[Task, ...]
    keep_world: bool
    perturb_seed: int = 0


def task_blocks(env: HouseholdEnv, tasks: str) -> list[Block]:
    """The lifelong sequences, plus (``lifelong+suites``) every task of the evaluation suites grouped by
    house — seven times as many distinct tasks, so long-term memory keeps growing for longer."""
    blocks = [Block(s.sequence_id, s.tasks, True, s.perturb_seed) for s in env.lifelong_sequences()]
    if tasks == "lifelong+suites":
        by_scene: dict[str, list[Task]] = {}
        for subset in env.subsets():
            for task in env.tasks(subset):
                by_scene.setdefault(task.scene, []).append(task)
        blocks += [Block(f"suites/{scene}", tuple(t), False) for scene, t in sorted(by_scene.items())]
    return blocks


def run(
    *,
    quick: bool,
    steps: int,
    probes: Sequence[int],
    window: int,
    work_dir: Path | None,
    tasks: str = "lifelong",
) -> dict[str, Any]:
    from robomem.agents.robomemory import RoboMemoryAgent
    from robomem.agents.robomemory_config import RoboMemoryAgentConfig

    started = time.perf_counter()
    life = Lifetime()
    env = HouseholdEnv(HouseholdConfig(profile=PROFILE))
    blocks = task_blocks(env, tasks)
    memory_at: dict[str, Any] = {}
    pending = sorted(probes)
    with tempfile.TemporaryDirectory(prefix="robomem-bounded-context-", dir=work_dir) as tmp:
        memory_dir = Path(tmp) / "memory"
        run_dir = Path(tmp) / "run"
        run_dir.mkdir()
        wordpieces = WordPieces()
        agent = RoboMemoryAgent(
            RoboMemoryAgentConfig(memory=MemoryConfig(dir=str(memory_dir))),
            planner_wrapper=lambda planner: PromptProbe(planner, life, wordpieces),
        )
        agent.begin_run(run_dir)
        try:
            while life.steps < steps:
                life.attempt += 1
                for block in blocks:
                    for position, task in enumerate(block.tasks, start=1):
                        keep = block.keep_world and position > 1
                        if keep:
                            mix = f"{block.perturb_seed}:{life.attempt}:{block.name}:{position}"
                            env.perturb(PERTURB_K, seed=random.Random(mix).randrange(2**31))
                        observation = env.reset(task, keep_world=keep)
                        life.episode += 1
                        life.task_id = task.task_id
                        agent.run_episode(
                            LifetimeEnv(env, life), task, observation, episode_id=f"{life.episode}"
                        )
                        while pending and life.steps >= pending[0]:
                            memory_at[str(pending.pop(0))] = {
                                "at_step": life.steps,
                                **memory_size(memory_dir, agent),
                            }
                        if life.steps >= steps:
                            break
                    if life.steps >= steps:
                        break
            memory_at["end"] = {"at_step": life.steps, **memory_size(memory_dir, agent)}
        finally:
            agent.end_run()
    calls = life.calls
    probe_rows = [probe_summary(calls, p, window) for p in sorted(probes)]
    for row in probe_rows[1:]:
        row["same_tasks"] = same_task_ratio(calls, row, window)
    first, last = probe_rows[0], probe_rows[-1]
    ratio = last["tokens_median"] / first["tokens_median"] if first["tokens_median"] else None
    memory_ratio = (
        last["section_chars_median"]["memory"] / first["section_chars_median"]["memory"]
        if first["section_chars_median"].get("memory")
        else None
    )
    return {
        "benchmark": "bounded_context",
        "quick": quick,
        "description": (
            "LLM-planner prompt size per planner call while the deterministic agent lives through repeated "
            "household lifelong sequences with one growing memory; median over the calls nearest each probe"
        ),
        "token_estimate": "ceil(len(prompt) / 4); wordpieces: MiniLM's uncased BERT WordPiece tokenizer",
        "planner_prompt": "LLMPlanner.prompt with the default LLMPlannerConfig (memory_chars 1500 per store, "
        "past episodes whole within recall_tokens 1200, observation 2000, history: at most 5 steps not yet "
        "in temporal memory, reflection 600, the profile's skill guide and 2 examples; the skill list is "
        "never cut)",
        "profile": PROFILE,
        "tasks": tasks,
        "distinct_tasks": len({t.task_id for b in blocks for t in b.tasks}),
        "perturb_k": PERTURB_K,
        "lifetime_steps": life.steps,
        "episodes": life.episode,
        "attempts": life.attempt,
        "planner_calls": len(calls),
        "window": window,
        "probes": probe_rows,
        "memory": memory_at,
        "target": {
            "ratio_max": TARGET_RATIO,
            "ratio": None if ratio is None else round(ratio, 3),
            "memory_section_ratio": None if memory_ratio is None else round(memory_ratio, 3),
            # Once memory fills its per-store budgets the prompt should stop growing: last ÷ second-to-last.
            "ratio_last_two_probes": round(last["tokens_median"] / probe_rows[-2]["tokens_median"], 3)
            if probe_rows[-2]["tokens_median"]
            else None,
            "met": ratio is not None and ratio <= TARGET_RATIO,
        },
        "tokens_by_call": [[c.lifetime_step, c.tokens, math.ceil(c.sections["memory"] / 4)] for c in calls],
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(),
        "created": now_iso(),
    }


def plot(report: dict[str, Any]) -> str:
    """Median prompt and memory-section tokens per band of lifetime steps (ten bands per decade)."""
    bands: dict[int, list[tuple[int, int]]] = {}
    for step, tokens, memory in report["tokens_by_call"]:
        bands.setdefault(math.floor(10 * math.log10(max(1, step))), []).append((tokens, memory))
    points = sorted(bands.items())
    first = report["probes"][0]["tokens_median"]
    return svg_line_plot(
        {
            "prompt tokens (len/4)": [
                (10 ** (b / 10), statistics.median(t for t, _ in v)) for b, v in points
            ],
            "memory section tokens": [
                (10 ** (b / 10), statistics.median(m for _, m in v)) for b, v in points
            ],
        },
        title="LLM planner prompt per call over the robot's life",
        x_label="lifetime step (log scale)",
        y_label="tokens per planner call (median per band)",
        log_x=True,
        hlines={f"target: {TARGET_RATIO} x step-{report['probes'][0]['step']} prompt": TARGET_RATIO * first},
    )


def _probes(text: str) -> list[int]:
    probes = sorted(set(parse_counts(text, "steps")))
    if len(probes) < 2 or probes[0] < 0:
        raise argparse.ArgumentTypeError("give at least two non-negative probe steps")
    return probes


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--probes",
        type=_probes,
        default=None,
        help="lifetime steps to probe (default 10,1e3,1e4; quick 10,40,70)",
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="lifetime steps to run (default: last probe + 60; quick 80)"
    )
    parser.add_argument(
        "--window", type=int, default=None, help="planner calls per probe (default 9, quick 3)"
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="where memory is built (default: tmp)")
    parser.add_argument(
        "--tasks",
        choices=("lifelong", "lifelong+suites"),
        default="lifelong",
        help="the lifelong sequences only (default), or also every suite task, grouped by house",
    )
    parser.add_argument("--plot", type=Path, default=None, help="SVG plot (default: next to --out)")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    probes = args.probes or ([10, 40, 70] if args.quick else [10, 1_000, 10_000])
    steps = args.steps or (80 if args.quick else probes[-1] + 60)
    window = args.window or (3 if args.quick else 9)
    if steps < probes[-1] or window < 1:
        parser.error("--steps must reach the last probe and --window must be >= 1")
    report = run(
        quick=args.quick, steps=steps, probes=probes, window=window, work_dir=args.work_dir, tasks=args.tasks
    )
    plot_path = args.plot or args.out.with_suffix(".svg")
    report["plot"] = str(plot_path)
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot_path.write_text(plot(report), encoding="utf-8")
    return report


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    target = report["target"]
    sizes = ", ".join(f"step {p['step']}: {p['tokens_median']:g}" for p in report["probes"])
    return (
        f"bounded_context: planner prompt tokens (len/4, median of {report['window']} calls) {sizes}; "
        f"ratio {target['ratio']} (target <= {TARGET_RATIO}: {'met' if target['met'] else 'MISSED'}), "
        f"{report['lifetime_steps']} steps in {report['seconds']:.0f} s -> {args.out}, {report['plot']}"
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
