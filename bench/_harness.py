"""Agent evaluations through the real harness, for the benchmarks that compare agents (competence,
cumulative_learning)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from robomem.eval.metrics import Summary
    from robomem.eval.results import EpisodeRecord

__all__ = ("HarnessRun", "eval_command", "run_harness")

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
