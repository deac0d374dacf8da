"""The evaluation harness: plans an environment's task suites into episodes, runs them (one after another,
or in parallel workers: :mod:`robomem.eval.parallel`) and writes EB-format results and summaries.

Each episode is run by :mod:`robomem.eval.runner`: the agent drives it, but outcomes are measured there, the
agent acting through a :class:`RecordingEnv` that counts steps and invalid actions and keeps the
environment's last ``info``. Nothing is written outside the run directory.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from envs.base import Env
from envs.task import LifelongSequence, Task
from robomem.agents.base import Agent
from robomem.config import Config
from robomem.errors import ConfigError
from robomem.eval._progress import RunProgress
from robomem.eval.metrics import SubsetSummary, Summary, summarize
from robomem.eval.results import EpisodeRecord, episode_result_path
from robomem.eval.runner import RecordingEnv, run_planned, step_log_path
from robomem.storage import write_json_atomic

# RecordingEnv and step_log_path live in robomem.eval.runner; named here too, where callers import them.
__all__ = (
    "SETUP_SUFFIX",
    "PlannedEpisode",
    "RecordingEnv",
    "evaluate",
    "format_table",
    "plan_episodes",
    "step_log_path",
)

#: A parallel run's record of its worker count (robomem/eval/parallel.py), checked by ``--resume``.
WORKERS_FILE = "workers.json"
#: Label suffix of lifelong tasks that prepare another subset's tasks (``recall_setup`` for ``recall``).
SETUP_SUFFIX = "_setup"


@dataclass(frozen=True)
class PlannedEpisode:
    task: Task
    subset: str
    keep_world: bool = False
    #: ``(k, seed)`` for ``env.perturb`` just before the episode, or ``None``.
    perturb: tuple[int, int] | None = None
    attempt: int | None = None
    sequence_id: str | None = None
    sequence_position: int | None = None


def plan_episodes(cfg: Config, env: Env) -> tuple[tuple[str, ...], tuple[PlannedEpisode, ...]]:
    """The subsets to report and the episodes to run, in order. Raises :class:`ConfigError` for a
    selection the env cannot serve, before anything is run or written."""
    name = type(env).__name__
    if cfg.eval.mode == "episodic":
        subsets = _selected(cfg, env.subsets(), f"env {name} has no built-in task subsets", "env.type")
        episodes = tuple(
            PlannedEpisode(task=task, subset=subset)
            for subset in subsets
            for task in env.tasks(subset)[: cfg.eval.episodes]
        )
        return subsets, episodes
    try:
        sequences = env.lifelong_sequences() if env.capabilities().lifelong else ()
    except NotImplementedError:  # an env that declares the capability yet lacks it (a third party's)
        sequences = ()
    # Lifelong tasks carry their own subset labels; those are what `eval.subsets` selects from.
    labels = tuple(dict.fromkeys(t.subset for seq in sequences for t in seq.tasks))
    subsets = _selected(cfg, labels, f"env {name} has no lifelong sequences", "eval.mode")
    # A task labelled `<s>_setup` shows the agent what the tasks of `<s>` need: it goes wherever `<s>` goes
    # (reported under its own label).
    subsets = tuple(dict.fromkeys(x for s in subsets for x in (s, s + SETUP_SUFFIX) if x in labels))
    # Tasks of unselected subsets leave their sequence; the house still persists across the rest.
    kept = [
        seq.model_copy(update={"tasks": tuple(t for t in seq.tasks if t.subset in subsets)})
        for seq in sequences
    ]
    kept = [seq for seq in kept if seq.tasks][: cfg.eval.episodes]
    episodes = tuple(
        item for seq in kept for item in _lifelong_episodes(seq, cfg.eval.lifelong_repeats, cfg.eval.seed)
    )
    seen = {item.subset for item in episodes}
    return tuple(s for s in subsets if s in seen), episodes


def _selected(cfg: Config, available: tuple[str, ...], none_message: str, none_key: str) -> tuple[str, ...]:
    if not available:
        raise ConfigError(none_message, key=none_key)
    if cfg.eval.subsets is None:
        return available
    for subset in cfg.eval.subsets:
        if subset not in available:
            raise ConfigError(
                f"unknown subset {subset!r}; available: {', '.join(available)}", key="eval.subsets"
            )
    return cfg.eval.subsets


def _lifelong_episodes(seq: LifelongSequence, repeats: int, run_seed: int) -> list[PlannedEpisode]:
    episodes = []
    for attempt in range(1, repeats + 1):
        for position, task in enumerate(seq.tasks, start=1):
            # Every attempt restarts the house from its initial state, like a re-staged real kitchen: only
            # the agent's memory carries over, so attempt 2 can't find its goals already done by attempt 1.
            first = position == 1
            perturb = None
            if not first and seq.perturb_k > 0:
                # Seeded per (sequence, run, attempt, position): reruns repeat, attempts differ.
                mix = f"{seq.perturb_seed}:{run_seed}:{attempt}:{position}"
                perturb = (seq.perturb_k, random.Random(mix).randrange(2**31))
            episodes.append(
                PlannedEpisode(
                    task=task,
                    subset=task.subset,
                    keep_world=not first,
                    perturb=perturb,
                    attempt=attempt,
                    sequence_id=seq.sequence_id,
                    sequence_position=position,
                )
            )
    return episodes


def evaluate(
    cfg: Config,
    env: Env,
    agent: Agent,
    run_dir: Path,
    progress: bool | RunProgress = True,
    *,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.perf_counter,
    resume: bool = False,
    fresh_memory: bool = False,
) -> Summary:
    """Run every planned episode, write per-episode and summary files under ``run_dir``, return the
    summary. An episode aborted by an :class:`EnvAdapterError` is recorded as failed and the run goes on;
    other exceptions propagate. ``progress``: draw the progress line (:class:`RunProgress`), or the caller's.

    With ``resume``, episodes whose result file exists are not run again (in lifelong mode their logged
    actions are replayed so the house is where they left it); the first unfinished one continues from the
    agent's checkpoint.

    With ``eval.workers`` > 1 (or ``eval.executor: dask``) the episodes run in parallel workers, each
    building its own env and agent from ``cfg`` (robomem/eval/parallel.py): ``agent`` only checks the tasks,
    and ``fresh_memory`` is handed to every worker's agent."""
    subsets, plan = plan_episodes(cfg, env)
    agent.check_tasks([item.task for item in plan])
    numbered = number_episodes(plan)
    if isinstance(progress, RunProgress):  # the caller's, e.g. to print --verbose lines through it
        bar, bar.total = progress, len(plan)
    else:
        bar = RunProgress(len(plan), enabled=progress, stream=stream)
    started = clock()
    try:
        if cfg.eval.workers > 1 or cfg.eval.executor == "dask":
            from robomem.eval.parallel import run_parallel

            records = run_parallel(cfg, env, run_dir, numbered, bar, resume=resume, fresh_memory=fresh_memory)
        else:
            records = _run_sequential(cfg, env, agent, run_dir, numbered, bar, clock=clock, resume=resume)
    finally:
        bar.close()
    by_subset: dict[str, list[EpisodeRecord]] = {s: [] for s in subsets}
    for record, (item, _) in zip(records, numbered, strict=True):
        by_subset[item.subset].append(record)
    everything = [r for records in by_subset.values() for r in records]
    attempts = sorted({r.attempt for r in everything if r.attempt is not None})
    summary = Summary(
        mode=cfg.eval.mode,
        subsets={s: summarize(records) for s, records in by_subset.items()},
        overall=summarize(everything),
        by_attempt={a: summarize([r for r in everything if r.attempt == a]) for a in attempts},
    )
    for subset, stats in summary.subsets.items():
        write_json_atomic(run_dir / subset / "results" / "summary.json", stats.model_dump(mode="json"))
    write_json_atomic(run_dir / "summary.json", summary.model_dump(mode="json"))
    overall = summary.overall
    bar.finish(
        f"robomem: {overall.n} episodes in {clock() - started:.1f}s, SR {100 * overall.sr:.1f}%"
        f" ({overall.errors} env errors) -> {run_dir}"
    )
    return summary


def number_episodes(plan: tuple[PlannedEpisode, ...]) -> list[tuple[PlannedEpisode, int]]:
    """Each planned episode with its number within its subset (from 1, in plan order): its result file's
    ``N``, the same however many workers run the plan."""
    counts: dict[str, int] = {}
    numbered = []
    for item in plan:
        counts[item.subset] = counts.get(item.subset, 0) + 1
        numbered.append((item, counts[item.subset]))
    return numbered


def _run_sequential(
    cfg: Config,
    env: Env,
    agent: Agent,
    run_dir: Path,
    numbered: list[tuple[PlannedEpisode, int]],
    bar: RunProgress,
    *,
    clock: Callable[[], float],
    resume: bool,
) -> list[EpisodeRecord]:
    if resume:
        check_worker_count(run_dir, 1)
    recorder = RecordingEnv(env)
    records = []
    agent.begin_run(run_dir)
    try:
        for item, n in numbered:
            key = f"{item.subset}/{n}"
            if not (resume and episode_result_path(run_dir, item.subset, n).exists()):
                bar.episode_started(key, f"{item.subset} {item.task.task_id}")
            recorder.on_step = lambda step, key=key: bar.step(key, step)
            record, reused = run_planned(
                cfg, item, n, env, recorder, agent, run_dir, clock=clock, resume=resume
            )
            records.append(record)
            bar.episode_finished(key, success=record.task_success >= 1.0, skipped=reused)
    finally:
        agent.end_run()
    return records


def check_worker_count(run_dir: Path, workers: int) -> None:
    """A run resumes with the worker count it started with: the deal of episodes to workers, and so where
    each worker's checkpoints and memory are, depends on it (robomem/eval/parallel.py)."""
    path = run_dir / WORKERS_FILE
    found = json.loads(path.read_text(encoding="utf-8")).get("workers") if path.exists() else 1
    if found != workers:
        raise ConfigError(
            f"{str(run_dir)!r} was run with {found} worker(s); resume it with eval.workers={found}",
            key="eval.workers",
        )


def format_table(summary: Summary) -> str:
    """One line per subset (then all subsets pooled, then per attempt in lifelong mode) with SR and GC
    and their 95% confidence intervals, e.g. ``base  n=50  SR 12.0% [5.6, 23.8]  GC 30.1% [24.0, 36.2]``."""
    rows: list[tuple[str, SubsetSummary]] = list(summary.subsets.items())
    if len(summary.subsets) != 1:
        rows.append(("all", summary.overall))
    rows += [(f"attempt {a}", stats) for a, stats in summary.by_attempt.items()]
    label_width = max(len(label) for label, _ in rows)
    n_width = max(len(str(stats.n)) for _, stats in rows)
    return "\n".join(_row(label, stats, label_width, n_width) for label, stats in rows)


def _row(label: str, s: SubsetSummary, label_width: int, n_width: int) -> str:
    def pct(x: float) -> str:
        return f"{100 * x:.1f}"

    line = (
        f"{label.ljust(label_width)}  n={str(s.n).ljust(n_width)}"
        f"  SR {pct(s.sr):>5}% [{pct(s.sr_ci[0])}, {pct(s.sr_ci[1])}]"
        f"  GC {pct(s.gc):>5}% [{pct(s.gc_ci[0])}, {pct(s.gc_ci[1])}]"
        f"  steps {s.mean_steps:.1f}  invalid {pct(s.invalid_action_ratio)}%"
    )
    return line + (f"  errors {s.errors}" if s.errors else "")
