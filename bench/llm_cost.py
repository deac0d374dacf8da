"""LLM cost of the RoboMemory agent: model calls, prompt tokens and completion tokens per step and per
episode, by role, for each preset measured side by side.

    python -m bench.llm_cost [--quick] [--preset robomemory --preset llm_agent] [--subset base ...]
                             [--episodes N] [--out PATH]

Presets, each run as shipped (only the endpoint, the episode selection, the embedder and the vector store are
overridden; ``--embedder openai`` serves the embeddings from the same scripted server, hashed vectors, so
their requests and tokens are counted as the role ``embeddings``, as a served Qwen3-Embedding's would be):

- ``robomemory`` (``configs/robomemory.yaml``, the paper preset): every operation on the model — thalamus
  (summary ∥ queries), the joint spatial update, temporal compression, the episodic Creator, lesson
  creation, both long-term deciders, planner and critic; ``on_failure: stop``, so a single unusable reply
  would stop the bench: every call counted here was usable.
- ``llm_agent`` (``configs/llm_agent.yaml``): planner, critic and thalamus on the model, memory operations
  deterministic.

Both run through the evaluation harness (``robomem.eval.harness.evaluate``, what ``robomem eval`` runs) on
the same household episodes, against a real OpenAI-compatible server on 127.0.0.1 (:class:`ScriptedLLMServer`)
whose replies are computed from each prompt (``bench/llm_replies.py``): the planner follows the oracle's
solution, so the episodes are successful trajectories, and the figures are the cost of a run in which the
model always answers well (no malformed replies, no rejections, no repairs).

**Tokens.** The scripted server reports whitespace-separated *words* as tokens (prompt: every word of every
message; completion: the words of the scripted reply). The report also re-tokenizes every recorded prompt
with the MiniLM WordPiece tokenizer (offline), as a closer estimate of what a real subword tokenizer
counts. Completion sizes are those of the scripted replies, not of a real model's (which would reason at
length in ``reasoning_and_reflection``).

Per role: calls (``complete()`` calls, from the agent's ``LLMAccounting``: ``llm_usage.json`` for the run and
a snapshot around every episode), prompt and completion tokens; per episode (median over episodes) and per
environment step (the run's totals divided by the run's steps, and the median over episodes). For the
memory decision roles, ``calls_with_nothing_stored`` counts calls whose prompt showed no stored item to
compare with (the answer can only be ADD), and ``retraction_calls`` the episodic decisions about retracting
a stored failure of the task just solved: calls a caller could skip.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._replies import gold_episodes
from bench._script import RESULTS_DIR, bench_main, machine_info, now_iso
from bench.llm_replies import agent_rules, planner_reply
from envs.base import Env, Observation
from envs.task import Task
from robomem.agents.base import Agent, EpisodeStats
from robomem.testing.scripted_llm import ScriptedLLMServer

__all__ = ("PRESETS", "main", "planner_reply", "run", "run_preset")

DEFAULT_OUT = RESULTS_DIR / "llm_cost.json"
_CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: The presets measured, by name (``--preset``).
PRESETS = {"robomemory": _CONFIGS / "robomemory.yaml", "llm_agent": _CONFIGS / "llm_agent.yaml"}
#: Roles called once per episode (memory writes); every other role is called per step or plan.
PER_EPISODE_ROLES = ("memory.episodic.creator", "memory.episodic", "memory.lessons", "memory.semantic")
#: The role of a served embedder's requests (``--embedder openai``).
EMBEDDINGS = "embeddings"
_COUNTED = ("calls", "requests", "prompt_tokens", "completion_tokens")


# ---- per-episode accounting --------------------------------------------------------------------------
class _PerEpisode(Agent):
    """Runs the RoboMemory agent and snapshots its LLM accounting around every episode."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.episodes: list[dict[str, Any]] = []

    def begin_run(self, run_dir: Path) -> None:
        self.inner.begin_run(run_dir)

    def end_run(self) -> None:
        self.inner.end_run()

    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        before = self.inner.accounting.snapshot()["roles"]
        stats: EpisodeStats = self.inner.run_episode(env, task, observation, episode_id=episode_id)
        after = self.inner.accounting.snapshot()["roles"]
        roles = {}
        for role, now in after.items():
            was = before.get(role, {})
            delta = {k: now[k] - was.get(k, 0) for k in _COUNTED}
            if delta["calls"]:
                roles[role] = delta
        self.episodes.append({"episode_id": episode_id, "task_id": task.task_id, "roles": roles})
        return stats


#: Roles that compare something new with what is stored; with nothing stored the answer is foregone.
_DECISION_ROLES = ("memory.episodic", "memory.semantic", "memory.spatial.resolve", "memory.spatial.update")


def _nothing_stored(role: str, prompt: str) -> bool:
    """Whether a decision call showed the model no stored item to compare with (ADD is the only answer)."""
    if role in ("memory.episodic", "memory.semantic"):
        return _section(prompt, "Stored items", "\n\nReply").strip().endswith("(none)")
    if role == "memory.spatial.resolve":
        return _section(prompt, "Existing beliefs", "\n\nNew facts").strip().endswith("(none)")
    if role == "memory.spatial.update":
        return _section(prompt, "Stored beliefs", "\n\nA thing has").strip().endswith("(none)")
    return False


def _section(text: str, start: str, end: str) -> str:
    _, found, tail = text.partition(start)
    return tail.split(end, 1)[0] if found else ""


def _wordpiece_counter() -> Any:
    """Subword token counts with the MiniLM WordPiece tokenizer (no truncation), or ``None``."""
    try:
        from tokenizers import Tokenizer

        from robomem.embeddings.minilm import find_model_dir

        tokenizer = Tokenizer.from_file(str(find_model_dir() / "tokenizer.json"))
    except Exception:
        return None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else 0.0


def run_preset(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One preset's run and its report."""
    from envs.registry import ENVS
    from robomem.agents import AGENTS
    from robomem.config import load_config
    from robomem.eval.harness import evaluate, plan_episodes

    preset = PRESETS[name]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-llm-cost-") as tmp:
        run_dir = Path(tmp) / "run"
        overrides = [
            f"eval.subsets={json.dumps(args.subset)}",
            f"eval.episodes={args.episodes}",
            f"run.dir={json.dumps(str(run_dir))}",
            f"env.max_steps={args.max_steps}",
            "agent.llm.base_url=http://127.0.0.1:1/v1",  # replaced below, once the server has a port
            "agent.llm.model=scripted",
            "agent.llm.max_retries=0",
            f"agent.memory.embedder.type={args.embedder}",
            f"agent.memory.vector.type={args.vector}",
        ]
        if args.embedder == "openai":  # served by the same scripted server (hashed vectors), accounted alike
            overrides.append("agent.memory.embedder.model=scripted-embedding")
        cfg = load_config(str(preset), overrides)
        with ENVS.build(cfg.env) as env:
            _, planned = plan_episodes(cfg, env)
            tasks = [item.task for item in planned]
            solved = gold_episodes(cfg.env.profile, "base", 0, tasks=tasks)  # type: ignore[attr-defined]
            gold = {(e.task.instruction, e.skills): e.actions for e in solved}
            with ScriptedLLMServer(agent_rules(gold, args.plan_len)) as server:
                endpoint = [f"agent.llm.base_url={server.base_url}"]
                if args.embedder == "openai":
                    endpoint.append(f"agent.memory.embedder.base_url={server.base_url}")
                cfg = load_config(str(preset), [*overrides, *endpoint])
                agent = _PerEpisode(AGENTS.build(cfg.agent))
                summary = evaluate(cfg, env, agent, run_dir, progress=False)
                requests = server.chat_requests
        usage = json.loads((run_dir / "llm_usage.json").read_text(encoding="utf-8"))
        records = []
        for subset in cfg.eval.subsets or ():
            for path in sorted((run_dir / subset / "results").glob("episode_*_final_res.json")):
                records.append(json.loads(path.read_text(encoding="utf-8")))
    records.sort(key=lambda r: (r["subset"], r["task_id"]))
    steps_by_task = {r["task_id"]: int(r["num_steps"]) for r in records}
    total_steps = sum(steps_by_task.values())
    episodes = agent.episodes

    # Re-tokenized prompts per role (the server's counts are words).
    count = _wordpiece_counter()
    prompt_words: dict[str, int] = defaultdict(int)
    prompt_chars: dict[str, int] = defaultdict(int)
    prompt_wordpieces: dict[str, int] = defaultdict(int)
    nothing_stored: dict[str, int] = defaultdict(int)
    retractions = 0
    for request in requests:
        role = request.role or "?"
        text = request.all_text
        nothing_stored[role] += _nothing_stored(role, request.last_user_text)
        if role == "memory.episodic":
            retractions += _section(request.last_user_text, "New item:\n", "\n").startswith("retract failure")
        prompt_words[role] += len(text.split())
        prompt_chars[role] += len(text)
        if count is not None:
            prompt_wordpieces[role] += count(text)

    roles: dict[str, Any] = {}
    for role, stats in sorted(usage["roles"].items()):
        per_episode = [e["roles"].get(role, {}) for e in episodes]
        per_step = [
            e["roles"].get(role, {}).get("calls", 0) / steps_by_task[e["task_id"]]
            for e in episodes
            if steps_by_task.get(e["task_id"])
        ]
        roles[role] = {
            "when": "per episode" if role in PER_EPISODE_ROLES else "per step or plan",
            "calls": stats["calls"],
            "requests": stats["requests"],
            "prompt_tokens": stats["prompt_tokens"],
            "completion_tokens": stats["completion_tokens"],
            "calls_per_step": round(stats["calls"] / total_steps, 3) if total_steps else None,
            "prompt_tokens_per_step": round(stats["prompt_tokens"] / total_steps, 1) if total_steps else None,
            "completion_tokens_per_step": round(stats["completion_tokens"] / total_steps, 1)
            if total_steps
            else None,
            "calls_per_episode_median": _median([p.get("calls", 0) for p in per_episode]),
            "prompt_tokens_per_episode_median": _median([p.get("prompt_tokens", 0) for p in per_episode]),
            "completion_tokens_per_episode_median": _median(
                [p.get("completion_tokens", 0) for p in per_episode]
            ),
            "calls_per_step_episode_median": _median(per_step),
            "prompt_tokens_per_call_mean": round(stats["prompt_tokens"] / stats["calls"], 1)
            if stats["calls"]
            else None,
            "prompt_chars": prompt_chars.get(role, 0),
            "prompt_wordpiece_tokens": prompt_wordpieces.get(role) if count is not None else None,
            "prompt_wordpiece_per_word": round(prompt_wordpieces[role] / prompt_words[role], 3)
            if count is not None and prompt_words.get(role)
            else None,
            "deterministic_fallbacks": stats.get("deterministic_fallbacks", 0),
            "calls_with_nothing_stored": nothing_stored.get(role, 0) if role in _DECISION_ROLES else None,
            **({"retraction_calls": retractions} if role == "memory.episodic" else {}),
            "latency_s": stats["latency_s"],
        }
    # Totals are the chat model's; a served embedder's requests are their own role (another model).
    chat = {role: stats for role, stats in usage["roles"].items() if role != EMBEDDINGS}
    total = {
        k: sum(stats.get(k, 0) for stats in chat.values()) for k in (*_COUNTED, "deterministic_fallbacks")
    }
    episode_totals = [
        {k: sum(r.get(k, 0) for role, r in e["roles"].items() if role != EMBEDDINGS) for k in _COUNTED}
        | {"task_id": e["task_id"]}
        for e in episodes
    ]
    words_total = sum(prompt_words.values())
    return {
        "preset": name,
        "config": str(preset.relative_to(_CONFIGS.parent)),
        "episodes": len(records),
        "env_steps": total_steps,
        "success_rate": round(summary.overall.sr, 3),
        "roles": roles,
        "total": {
            "calls": total["calls"],
            "requests": total["requests"],
            "prompt_tokens": total["prompt_tokens"],
            "completion_tokens": total["completion_tokens"],
            "calls_per_step": round(total["calls"] / total_steps, 3) if total_steps else None,
            "prompt_tokens_per_step": round(total["prompt_tokens"] / total_steps, 1) if total_steps else None,
            "completion_tokens_per_step": round(total["completion_tokens"] / total_steps, 1)
            if total_steps
            else None,
            "calls_per_episode_median": _median([t["calls"] for t in episode_totals]),
            "prompt_tokens_per_episode_median": _median([t["prompt_tokens"] for t in episode_totals]),
            "completion_tokens_per_episode_median": _median([t["completion_tokens"] for t in episode_totals]),
            # Means: what a run of many episodes costs per episode (a median would under-count long ones).
            **{
                f"{k}_per_episode_mean": round(statistics.mean(t[k] for t in episode_totals), 1)
                for k in ("calls", "prompt_tokens", "completion_tokens")
                if episode_totals
            },
            "steps_per_episode_mean": round(total_steps / len(records), 2) if records else None,
            "deterministic_fallbacks": total["deterministic_fallbacks"],
            "prompt_wordpiece_tokens": sum(prompt_wordpieces.values()) if count is not None else None,
            "prompt_wordpiece_per_word": round(sum(prompt_wordpieces.values()) / words_total, 3)
            if count is not None and words_total
            else None,
        },
        "per_episode": [
            {
                "task_id": r["task_id"],
                "subset": r["subset"],
                "steps": r["num_steps"],
                "success": r["task_success"],
                "planner_steps": r["planner_steps"],
                "planner_output_error": r["planner_output_error"],
                **next(
                    ({k: t[k] for k in _COUNTED} for t in episode_totals if t["task_id"] == r["task_id"]), {}
                ),
            }
            for r in records
        ],
        "seconds": round(time.perf_counter() - started, 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every preset of ``args.preset``, on the same episodes."""
    return {
        "benchmark": "llm_cost",
        "quick": args.quick,
        "subsets": args.subset,
        "episodes_per_subset": args.episodes,
        "max_steps": args.max_steps,
        "plan_len": args.plan_len,
        "embedder": args.embedder,
        "vector_backend": args.vector,
        "tokens_are": (
            "words: the scripted server counts whitespace-separated words of the prompt (all messages) and "
            "of the reply as tokens; prompt_wordpiece_tokens re-counts the prompts with the MiniLM WordPiece "
            "tokenizer as an estimate of real subword tokens; completions are scripted, not a model's"
        ),
        "presets": {name: run_preset(name, args) for name in args.preset},
        "machine": machine_info(),
        "created": now_iso(),
    }


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--subset", action="append", help="household subset (repeatable; default base and long_horizon)"
    )
    parser.add_argument("--episodes", type=int, default=None, help="episodes per subset (default 5, quick 1)")
    parser.add_argument("--max-steps", type=int, default=None, help="env.max_steps (default 30, quick 6)")
    parser.add_argument("--plan-len", type=int, default=3, help="actions per scripted plan (default 3)")
    parser.add_argument(
        "--embedder",
        choices=("minilm", "hashing", "openai"),
        default="minilm",
        help="openai: a served embedder (the scripted server's /v1/embeddings), accounted as role embeddings",
    )
    parser.add_argument("--vector", choices=("chroma", "exact"), default="chroma")
    parser.add_argument(
        "--preset", action="append", choices=sorted(PRESETS), help="repeatable; default: both"
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.preset = list(dict.fromkeys(args.preset or PRESETS))
    args.subset = args.subset or (["base"] if args.quick else ["base", "long_horizon"])
    args.episodes = args.episodes if args.episodes is not None else (1 if args.quick else 5)
    args.max_steps = args.max_steps if args.max_steps is not None else (6 if args.quick else 30)
    if args.episodes < 1 or args.max_steps < 1 or args.plan_len < 1:
        parser.error("--episodes, --max-steps and --plan-len must be >= 1")
    return run(args)


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    lines = []
    for result in report["presets"].values():
        lines.append(f"\n{result['config']}")
        head = ("calls/step", "calls/ep", "prompt tok/step", "compl tok/step")
        lines.append(f"{'role':26s} {head[0]:>10s} {head[1]:>9s} {head[2]:>16s} {head[3]:>15s}")
        rows = [*result["roles"].items(), ("total (chat model)", result["total"])]
        for role, r in rows:
            lines.append(
                f"{role:26s} {r['calls_per_step']!s:>10s} {r['calls_per_episode_median']!s:>9s} "
                f"{r['prompt_tokens_per_step']!s:>16s} {r['completion_tokens_per_step']!s:>15s}"
            )
        lines.append(
            f"{result['episodes']} episodes, {result['env_steps']} steps, SR {result['success_rate']}, "
            f"{result['seconds']} s"
        )
    lines.append(f"tokens = words (scripted server) -> {args.out}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
