"""Measure the offline planner and critic on whole committed suites (too slow for the test run).

    .venv/bin/python -m tests.modules.prefrontal.symbolic.measure --profile alfred habitat
    .venv/bin/python -m tests.modules.prefrontal.symbolic.measure --stores temporal        # no spatial memory
    .venv/bin/python -m tests.modules.prefrontal.symbolic.measure --no-priors --no-critic

Each subset runs its 50 tasks in suite order with one memory directory, so spatial memory carries over
between tasks in the same house (the house is restored to its initial state for every task).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from envs.household.suites import SUBSETS, load_suite
from modules.prefrontal.critic import DeterministicCritic
from modules.prefrontal.symbolic import SymbolicPlanner, SymbolicPlannerConfig
from tests.modules.prefrontal.symbolic.loop import EpisodeRun, fast_memory, run_tasks


def summarize(runs: list[EpisodeRun]) -> dict[str, float]:
    n = len(runs)
    gold = [r.task.gold_plan_length or 0 for r in runs]
    won = [r for r in runs if r.success]
    return {
        "sr": sum(r.success for r in runs) / n,
        "gc": sum(r.progress for r in runs) / n,
        "steps": sum(r.steps for r in runs) / n,
        "steps_won": sum(r.steps for r in won) / max(1, len(won)),
        "gold": sum(gold) / n,
        "gold_won": sum(r.task.gold_plan_length or 0 for r in won) / max(1, len(won)),
        "invalid": sum(r.invalid for r in runs) / n,
        "rejections": sum(r.rejections for r in runs) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", nargs="+", default=["alfred", "habitat"])
    parser.add_argument("--subset", nargs="+", default=list(SUBSETS))
    parser.add_argument("--stores", nargs="*", default=None, help="memory stores (default: all four)")
    parser.add_argument("--no-priors", action="store_true")
    parser.add_argument("--no-critic", action="store_true")
    parser.add_argument("--failures", action="store_true", help="list failed tasks")
    args = parser.parse_args()
    planner = SymbolicPlanner(SymbolicPlannerConfig(commonsense_priors=not args.no_priors))
    critic = None if args.no_critic else DeterministicCritic()
    memory = fast_memory(tuple(args.stores) if args.stores is not None else None)
    print(f"stores={memory.stores} priors={not args.no_priors} critic={critic is not None}")
    print(
        f"{'profile':8} {'subset':20} {'SR':>5} {'GC':>5} {'steps':>6} {'gold':>5} {'won':>5} {'gold':>5} "
        f"{'inv':>5} {'rej':>5} {'sec':>5}"
    )
    for profile in args.profile:
        suite = load_suite("v1", profile)
        for subset in args.subset:
            start = time.monotonic()
            with tempfile.TemporaryDirectory() as folder:
                tasks = suite.subsets[subset]
                runs = run_tasks(profile, tasks, Path(folder), planner, critic, memory_config=memory)
            s = summarize(runs)
            print(
                f"{profile:8} {subset:20} {s['sr']:5.2f} {s['gc']:5.2f} {s['steps']:6.1f} {s['gold']:5.1f} "
                f"{s['steps_won']:5.1f} {s['gold_won']:5.1f} {s['invalid']:5.2f} {s['rejections']:5.2f} "
                f"{time.monotonic() - start:5.1f}",
                flush=True,
            )
            if args.failures:
                for r in runs:
                    if not r.success:
                        print(f"    FAIL {r.task.task_id} ({r.steps} steps): {r.task.instruction}")


if __name__ == "__main__":
    main()
