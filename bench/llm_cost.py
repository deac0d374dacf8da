"""LLM cost of the RoboMemory agent in LLM mode: calls and tokens per step and per episode, by role (node).

    python -m bench.llm_cost [--quick] [--subset base --subset long_horizon] [--episodes N] [--out PATH]

The agent runs with every role on the LLM — ``planner: {type: llm}``, ``critic: {type: llm}``,
``thalamus: {type: llm}`` and every LLM memory operation (temporal compression, spatial relation
extraction and conflict resolution, episodic and semantic ADD/UPDATE/DELETE/NOOP decisions, lesson
creation) — through the evaluation harness (``robomem.eval.harness.evaluate``, what ``robomem eval`` runs)
on household episodes, against a real OpenAI-compatible server on 127.0.0.1 (:class:`ScriptedLLMServer`).

The scripted replies are valid and plausible, computed from each prompt: the planner answers with the next
(at most ``--plan-len``) actions of the task's oracle solution, looked up from the instruction and the
action list in its prompt, resuming after the steps its history section lists or says temporal memory
holds; the critic approves; the thalamus turns the observation into a first-person summary and 4 queries;
the memory operations answer as in ``bench/_common.py``. So the episodes are the oracle's successful
trajectories, and the figures are the cost of a run in which the model always answers well (no malformed
replies, no rejections, no repairs).

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
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._common import (
    RESULTS_DIR,
    add_standard_args,
    gold_episodes,
    machine_info,
    memory_reply_rules,
    now_iso,
    write_json,
)
from envs.base import Env, Observation
from envs.task import Task
from robomem.agents.base import Agent, EpisodeStats
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

__all__ = ("main", "planner_reply", "queries_reply", "run", "summary_reply")

DEFAULT_OUT = RESULTS_DIR / "llm_cost.json"
PRESET = Path(__file__).resolve().parents[1] / "configs" / "llm_agent.yaml"
#: Roles called once per environment step or plan, and those called once per episode (memory writes).
PER_EPISODE_ROLES = ("memory.episodic", "memory.lessons", "memory.semantic")
_COUNTED = ("calls", "requests", "prompt_tokens", "completion_tokens")


# ---- scripted replies ---------------------------------------------------------------------------------
def _section(text: str, start: str, end: str) -> str:
    _, found, tail = text.partition(start)
    return tail.split(end, 1)[0] if found else ""


def planner_reply(gold: dict[tuple[str, tuple[str, ...]], tuple[str, ...]], plan_len: int) -> Any:
    """A planner that answers with the next ``plan_len`` actions of the oracle's solution of the task in the
    prompt (an empty plan once the solution is used up)."""

    def reply(request: RecordedRequest) -> str:
        text = request.last_user_text
        skills = re.findall(r"^action id (\d+): (.+)$", _section(text, "## Action list\n", "\n## "), re.M)
        instruction = _section(text, "## Task\n", "\n").strip()
        actions = gold.get((instruction, tuple(name for _, name in skills)), ())
        done = [int(n) for n in re.findall(r"^Step (\d+), action id", text, re.M)]
        # Steps that temporal memory holds are not listed again; the history says how many there are.
        done += [
            int(n)
            for n in re.findall(r"^\((?:step |steps 1-)(\d+) (?:is|are) in temporal memory", text, re.M)
        ]
        ids = {name: int(i) for i, name in skills}
        chosen = [a for a in actions[max(done, default=0) :][:plan_len] if a in ids]
        plan = [{"action_id": ids[a], "action_name": a} for a in chosen]
        return json.dumps(
            {
                "reasoning_and_reflection": "Memory and the observation say where the objects are; "
                "continue with the next steps of the task.",
                "language_plan": ", then ".join(chosen) or "the task is complete",
                "executable_plan": plan,
            }
        )

    return reply


def _critic_reply(request: RecordedRequest) -> str:
    action = _section(request.last_user_text, "## The action about to run\n", "\n").strip()
    return json.dumps(
        {"reasoning": f"'{action}' can run now and moves the task forward.", "ok": True, "feedback": ""}
    )


def summary_reply(request: RecordedRequest) -> str:
    """A first-person summary of the thalamus prompt's action and observation."""
    text = request.last_user_text
    action = re.search(r"^Action: (.+) \((it succeeded|it failed)\)$", text, re.M)
    observation = _section(text, "## Observation now\n", "\n\nReply")
    parts = []
    if action:
        outcome = "it worked" if "succeeded" in action.group(2) else "it failed"
        parts.append(f"I tried '{action.group(1)}' and {outcome}.")
    else:
        parts.append("I started the task.")
    where = re.search(r"You are in the (\S+?), at (\S+?)\.", observation)
    room = re.search(r"You are in the (\S+?)\.", observation)
    if where:
        parts.append(f"I am at {where.group(2)} in the {where.group(1)}.")
        seen = re.search(rf"(?:On|In) {re.escape(where.group(2))}: ([^.]+)\.", observation)
        if seen:
            names = [re.sub(r" \(.*", "", n.strip()) for n in seen.group(1).split("),")]
            parts.append("I see " + ", ".join(n for n in names if n) + ".")
    elif room:
        parts.append(f"I am in the {room.group(1)}.")
    # "You are holding Egg (small white)." names the thing first, its attributes after.
    held = re.search(r"You are holding ([A-Za-z][A-Za-z0-9_]*)", observation)
    parts.append(
        "My hand is empty." if held is None or held.group(1) == "nothing" else f"I hold {held.group(1)}."
    )
    return json.dumps({"summary": " ".join(parts)})


def queries_reply(request: RecordedRequest) -> str:
    text = request.last_user_text
    instruction = _section(text, "## Task\n", "\n").strip()
    observation = _section(text, "## Observation now\n", "\n\nReply")
    names = re.findall(r"\b([A-Z][A-Za-z]+(?:_\d+)?)\b", instruction + " " + observation)
    stop = {"You", "In", "On", "My", "I", "The", "Put", "Place", "Move", "Wash", "Clean", "Heat", "Cool"}
    things = [n for n in dict.fromkeys(names) if n not in stop][:3]
    queries = [instruction, *(f"where is the {n}" for n in things)]
    return json.dumps({"queries": queries[:4]})


def _rules(gold: dict[tuple[str, tuple[str, ...]], tuple[str, ...]], plan_len: int) -> list[Rule]:
    return [
        Rule(role="planner", reply=planner_reply(gold, plan_len)),
        Rule(role="critic", reply=_critic_reply),
        Rule(role="thalamus.summary", reply=summary_reply),
        Rule(role="thalamus.queries", reply=queries_reply),
        *memory_reply_rules(),
    ]


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


def run(args: argparse.Namespace) -> dict[str, Any]:
    from envs.registry import ENVS
    from robomem.agents import AGENTS
    from robomem.config import load_config
    from robomem.eval.harness import evaluate, plan_episodes

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
            "agent.memory.temporal.compressor=llm",
            "agent.memory.spatial.extractor=llm",
            "agent.memory.spatial.resolver=llm",
            "agent.memory.episodic.decider=llm",
            "agent.memory.semantic.creator=llm",
            "agent.memory.semantic.decider=llm",
            f"agent.memory.embedder.type={args.embedder}",
            f"agent.memory.vector.type={args.vector}",
        ]
        cfg = load_config(PRESET, overrides)
        with ENVS.build(cfg.env) as env:
            _, planned = plan_episodes(cfg, env)
            tasks = [item.task for item in planned]
            solved = gold_episodes(cfg.env.profile, "base", 0, tasks=tasks)  # type: ignore[attr-defined]
            gold = {(e.task.instruction, e.skills): e.actions for e in solved}
            with ScriptedLLMServer(_rules(gold, args.plan_len)) as server:
                cfg = load_config(PRESET, [*overrides, f"agent.llm.base_url={server.base_url}"])
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
            "calls_with_nothing_stored": nothing_stored.get(role, 0) if role in _DECISION_ROLES else None,
            **({"retraction_calls": retractions} if role == "memory.episodic" else {}),
            "latency_s": stats["latency_s"],
        }
    total = usage["total"]
    episode_totals = [
        {k: sum(r.get(k, 0) for r in e["roles"].values()) for k in _COUNTED} | {"task_id": e["task_id"]}
        for e in episodes
    ]
    words_total = sum(prompt_words.values())
    return {
        "benchmark": "llm_cost",
        "quick": args.quick,
        "subsets": list(cfg.eval.subsets or ()),
        "episodes": len(records),
        "env_steps": total_steps,
        "success_rate": round(summary.overall.sr, 3),
        "plan_len": args.plan_len,
        "embedder": args.embedder,
        "vector_backend": args.vector,
        "tokens_are": (
            "words: the scripted server counts whitespace-separated words of the prompt (all messages) and "
            "of the reply as tokens; prompt_wordpiece_tokens re-counts the prompts with the MiniLM WordPiece "
            "tokenizer as an estimate of real subword tokens; completions are scripted, not a model's"
        ),
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
        "machine": machine_info(),
        "created": now_iso(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_standard_args(parser, DEFAULT_OUT)
    parser.add_argument(
        "--subset", action="append", help="household subset (repeatable; default base and long_horizon)"
    )
    parser.add_argument("--episodes", type=int, default=None, help="episodes per subset (default 5, quick 1)")
    parser.add_argument("--max-steps", type=int, default=None, help="env.max_steps (default 30, quick 6)")
    parser.add_argument("--plan-len", type=int, default=3, help="actions per scripted plan (default 3)")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--vector", choices=("chroma", "exact"), default="chroma")
    args = parser.parse_args(argv)
    args.subset = args.subset or (["base"] if args.quick else ["base", "long_horizon"])
    args.episodes = args.episodes if args.episodes is not None else (1 if args.quick else 5)
    args.max_steps = args.max_steps if args.max_steps is not None else (6 if args.quick else 30)
    if args.episodes < 1 or args.max_steps < 1 or args.plan_len < 1:
        parser.error("--episodes, --max-steps and --plan-len must be >= 1")
    report = run(args)
    write_json(report, args.out)
    print(
        f"{'role':26s} {'calls/step':>10s} {'calls/ep':>9s} {'prompt tok/step':>16s} {'compl tok/step':>15s}"
    )
    for role, r in report["roles"].items():
        print(
            f"{role:26s} {r['calls_per_step']!s:>10s} {r['calls_per_episode_median']!s:>9s} "
            f"{r['prompt_tokens_per_step']!s:>16s} {r['completion_tokens_per_step']!s:>15s}"
        )
    t = report["total"]
    print(
        f"{'total':26s} {t['calls_per_step']!s:>10s} {t['calls_per_episode_median']!s:>9s} "
        f"{t['prompt_tokens_per_step']!s:>16s} {t['completion_tokens_per_step']!s:>15s}"
    )
    print(
        f"{report['episodes']} episodes, {report['env_steps']} steps, SR {report['success_rate']}, "
        f"tokens = words (scripted server), {report['seconds']} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
