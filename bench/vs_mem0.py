"""robomem's memory beside Mem0's, on the same steps of one house, both served by one fake OpenAI-compatible
endpoint that answers every chat request after L seconds.

    python -m bench.vs_mem0 [--quick] [--delay 0.2] [--steps 100] [--mem0-python PATH] [--out PATH]

Mem0 runs in its own venv (its pins differ from robomem's), made once with

    python3 -m venv .venv-mem0 && .venv-mem0/bin/pip install "mem0ai==2.2.1"

(``.venv-mem0`` is git-ignored); without it only robomem's side runs and the report says why.

The steps: the household simulator's first lifelong sequence (alfred profile: tasks one after another in one
persistent house), solved by the oracle; every observation goes through the deterministic thalamus into a
step summary and the step's retrieval queries — the same text for both systems, up to ``--steps`` steps.

* robomem: the memory system with every memory operation on the model (``bench.parallel_memory``'s
  ``paper`` set: the paper preset's), embeddings from the endpoint's ``/v1/embeddings``, Chroma. Per step
  ``update`` + ``retrieve``; an episode's last step ``update_and_end`` + ``settle`` (its consolidation).
* Mem0 (``bench/mem0_runner.py``, in Mem0's venv): per step ``add`` (Mem0 2.2's one-call, ADD-only
  extraction) and one ``search`` per query.

What is faked, so what this compares: the model. Every chat call of both systems goes to
:class:`~robomem.testing.scripted_llm.ScriptedLLMServer`, which answers after L seconds with what a
careful model would: the relations the step summary states (one function,
``bench._replies.relations_from_summary``, answers robomem's spatial call and Mem0's extraction, which
writes them as sentences and leaves out those already among the memories it was shown); robomem's other
memory operations as in ``bench.parallel_memory``. Embeddings are the server's lexical hashed vectors,
served at once. So the figures compare the structure of the memory operations (how many model calls in a
row a step waits for) and what each memory answers after things moved (staleness) — not model quality,
embedding quality, or either system's speed against a real endpoint.

"Where is X?": after the last step, for every object the robot saw at one place and later at another, and
last saw where the simulator says it is at the end. robomem: its spatial retrieval for ``where is X``;
Mem0: its search for ``Where is X?`` (top 5). The answer is the first line or memory that places X; it is
right when it names X's true place.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench._replies import MEMORY_ROLE_STORES, memory_reply_rules, relations_from_summary, section
from bench._script import RESULTS_DIR, bench_main, distribution, machine_info, now_iso
from bench.parallel_memory import OPS
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord, StepSummary
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

if TYPE_CHECKING:
    from modules.hippocampus.spatial.memory import SpatialMemory

__all__ = ("House", "HouseStep", "house_steps", "main", "mem0_reply", "questions", "run_robomem")

DEFAULT_OUT = RESULTS_DIR / "vs_mem0.json"
DEFAULT_MEM0_PYTHON = Path(".venv-mem0/bin/python")
MEM0_INSTALL = 'python3 -m venv .venv-mem0 && .venv-mem0/bin/pip install "mem0ai==2.2.1"'
RUNNER = Path(__file__).with_name("mem0_runner.py")
EMBEDDING_DIM = 64
TOP_K = 5
_LOCATED = ("in", "on", "at")


@dataclass(frozen=True)
class HouseStep:
    summary: StepSummary
    queries: tuple[str, ...]
    #: Set on an episode's last step (the memory consolidates the episode then).
    outcome: EpisodeOutcome | None = None


@dataclass
class House:
    steps: list[HouseStep]
    #: Where each object is after the last step (the simulator's truth; ``None``: held).
    truth: dict[str, str | None]
    #: Where the robot saw each object, in order, a place repeated only after another.
    seen: dict[str, list[str]] = field(default_factory=dict)


def house_steps(limit: int) -> House:
    """Up to ``limit`` steps of the first lifelong sequence, the house persisting from task to task."""
    from envs.household.config import HouseholdConfig
    from envs.household.env import HouseholdEnv
    from envs.household.oracle import solve
    from modules.prefrontal.base import ExecutedAction
    from modules.thalamus.deterministic import DeterministicThalamus

    env = HouseholdEnv(HouseholdConfig(profile="alfred"))
    sequence = env.lifelong_sequences()[0]
    thalamus = DeterministicThalamus()
    house = House([], {})
    for index, task in enumerate(sequence.tasks):
        if len(house.steps) >= limit:
            break
        env.reset(task, keep_world=index > 0)
        before = copy.deepcopy(env.world)
        actions = solve(env)  # the oracle acts on the env: replay its actions from the same world
        env.set_world(before)
        observation = env.reset(task, keep_world=True)
        context = EpisodeContext(
            site=task.scene,
            episode_id=f"{sequence.sequence_id}/{index + 1}",
            instruction=task.instruction,
            task_type=task.task_type,
        )
        budget = limit - len(house.steps) - 1  # the reset observation is a step of memory too
        records: list[tuple[int, Any, Any]] = [(0, observation, None)]
        success, progress = False, 0.0
        for action in actions[:budget]:
            result = env.step(action)
            info = result.info
            done = ExecutedAction(action, info["env_feedback"], info["last_action_success"], info["env_step"])
            records.append((info["env_step"], result.observation, done))
            success, progress = info["task_success"] >= 1.0, info["task_progress"]
        history: list[StepRecord] = []
        for position, (step, obs, done) in enumerate(records):
            now = float(len(house.steps))
            perceived = thalamus.perceive(context, task, step, obs, done, time=now)
            _note_seen(house.seen, perceived.summary.text)
            if done is not None:
                history.append(StepRecord(done.action, done.feedback, done.success))
            outcome = None
            if position == len(records) - 1:
                outcome = EpisodeOutcome(
                    context=context,
                    success=success,
                    progress=progress,
                    steps=tuple(history),
                    final_perception=obs.perception,
                    time=now,
                )
            house.steps.append(HouseStep(perceived.summary, tuple(perceived.queries), outcome))
    world = env.world
    house.truth = {name: world.place_of(name) for name in house.seen}
    env.close()
    return house


def _note_seen(seen: dict[str, list[str]], summary: str) -> None:
    """Where the step summary puts things (as the fake model reads it for both systems); ``held``: in hand."""
    for fact in relations_from_summary(summary)["relations"]:
        subject, relation, obj = fact["subject"], fact["relation"], fact["object"]
        if subject == "I" and relation == "holding":
            subject, obj = obj, "held"
        elif subject == "I" or relation not in _LOCATED:
            continue
        places = seen.setdefault(subject, [])
        if not places or places[-1] != obj:
            places.append(obj)


def questions(house: House) -> list[str]:
    """The objects the summaries placed at two places or more (being held aside), whose last stated place is
    where the simulator has them at the end: what both memories were told, and true."""
    return sorted(
        name
        for name, places in house.seen.items()
        if len(set(places) - {"held"}) >= 2 and house.truth.get(name) == places[-1]
    )


# ---- the fake model's answer to Mem0 ----------------------------------------------------------------------
def _sentence(subject: str, relation: str, obj: str) -> str:
    if subject == "I":
        return f"The robot is holding {obj}." if relation == "holding" else f"The robot is {relation} {obj}."
    return f"{subject} is {relation} {obj}."


def mem0_reply(request: RecordedRequest) -> str:
    """Mem0's extraction call, answered as a careful model would: the relations the new message states, as
    sentences, without those the memories shown already say."""
    text = request.last_user_text
    summary = section(text, "## New Messages\n", "\n\n## ").strip().removeprefix("user: ").strip()
    try:
        shown = {
            str(m.get("text", "")) for m in json.loads(section(text, "## Existing Memories\n", "\n\n## "))
        }
    except (ValueError, AttributeError):
        shown = set()
    facts = relations_from_summary(summary)["relations"]
    sentences = dict.fromkeys(_sentence(f["subject"], f["relation"], f["object"]) for f in facts)
    memory = [{"id": str(i), "text": s} for i, s in enumerate(s for s in sentences if s not in shown)]
    return json.dumps({"memory": memory})


def _place_in(text: str, thing: str) -> str | None:
    """The place a retrieved line or memory gives ``thing`` (robomem: ``Mug_2 in Cabinet (...)``; Mem0:
    ``Mug_2 is in Cabinet.``), ``held`` when the robot holds it, else ``None``."""
    if re.search(rf"\b(I|The robot is) holding {re.escape(thing)}\b", text):
        return "held"
    found = re.search(rf"(?:^|\W){re.escape(thing)} (?:is )?(?:{'|'.join(_LOCATED)}) (\w+)", text)
    return found.group(1) if found else None


def _answer(texts: list[str], thing: str) -> dict[str, Any]:
    places = [p for p in (_place_in(t, thing) for t in texts) if p is not None]
    return {"answer": places[0] if places else None, "places_shown": list(dict.fromkeys(places))}


# ---- robomem's side ---------------------------------------------------------------------------------------
def run_robomem(house: House, server: ScriptedLLMServer, root: Path, delay: float) -> dict[str, Any]:
    """Every step through robomem's memory with the paper preset's memory operations on the model."""
    from modules.hippocampus.config import MemoryConfig
    from modules.hippocampus.factory import open_memory
    from robomem.embeddings.config import OpenAIEmbedderConfig
    from robomem.embeddings.factory import make_embedder
    from robomem.llm.config import LLMConfig
    from robomem.llm.factory import make_llm
    from robomem.stores.config import VectorConfig

    ops = OPS["paper"]
    embedder = OpenAIEmbedderConfig(model="scripted-embed", base_url=server.base_url, dim=EMBEDDING_DIM)
    config = MemoryConfig(**ops, embedder=embedder, vector=VectorConfig(type="chroma"))
    llm = make_llm(LLMConfig(model="scripted", base_url=server.base_url, max_retries=0, concurrency=8))
    system = open_memory(config, root / "robomem", llm=llm, embedder=make_embedder(config.embedder))
    rows: list[dict[str, Any]] = []
    answers: dict[str, dict[str, Any]] = {}
    try:
        context = None
        for step in house.steps:
            if step.summary.context != context:
                context = step.summary.context
                system.begin_episode(context)
            server.clear_requests()
            start = time.perf_counter()
            if step.outcome is None:
                system.update(step.summary)
                system.retrieve(step.queries)
            else:
                system.update_and_end(step.summary, step.outcome)
                system.settle()
            wall = time.perf_counter() - start
            system.flush()  # the agent flushes after an episode; not part of the step
            calls = Counter(MEMORY_ROLE_STORES.get(r.role or "", "other") for r in server.chat_requests)
            rows.append({"last": step.outcome is not None, "over_L": wall / delay, "calls": dict(calls)})
        graph = cast("SpatialMemory", system["spatial"]).graph()
        for thing in questions(house):
            lines = list(system.retrieve([f"where is {thing}"])["spatial"].lines)
            stored = [o for (_, r, o), _ in graph.out_edges(thing) if r in _LOCATED]
            stored += ["held" for (s, r, _), _ in graph.in_edges(thing) if (s, r) == ("I", "holding")]
            answers[thing] = _answer(lines, thing) | {"texts": lines[:TOP_K], "stored_places": stored}
    finally:
        system.close()
        close = getattr(llm, "close", None)
        if callable(close):
            close()
    return _side(rows, answers, house)


def _side(rows: list[dict[str, Any]], answers: dict[str, dict[str, Any]], house: House) -> dict[str, Any]:
    def stats(selected: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "steps": len(selected),
            "over_L": distribution([r["over_L"] for r in selected], digits=3),
            "calls_per_step": distribution([float(sum(r["calls"].values())) for r in selected], digits=2),
        }

    right = sum(a["answer"] == house.truth[t] for t, a in answers.items())
    only_truth = sum(a["stored_places"] == [house.truth[t]] for t, a in answers.items())
    return {
        "all_steps": stats(rows),
        "ordinary_steps": stats([r for r in rows if not r["last"]]),
        "last_steps": stats([r for r in rows if r["last"]]),
        "calls_by_store": dict(sum((Counter(r["calls"]) for r in rows), Counter())),
        "answers": answers,
        "right": right,
        #: Questions whose thing the memory places only where it truly is (whatever retrieval returns).
        "stores_only_the_true_place": only_truth,
        "questions": len(answers),
    }


# ---- Mem0's side (a subprocess in Mem0's venv) ------------------------------------------------------------
def run_mem0(
    house: House, server: ScriptedLLMServer, root: Path, delay: float, python: Path
) -> dict[str, Any]:
    things = questions(house)
    job = {
        "base_url": server.base_url,
        "dim": EMBEDDING_DIM,
        "dir": str(root / "mem0"),
        "top_k": TOP_K,
        "steps": [{"text": s.summary.text, "queries": list(s.queries)} for s in house.steps],
        "questions": [{"thing": t, "query": f"Where is {t}?"} for t in things],
    }
    (root / "mem0").mkdir(parents=True, exist_ok=True)
    job_path, out_path = root / "mem0_job.json", root / "mem0_out.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    server.clear_requests()
    env = {**os.environ, "MEM0_TELEMETRY": "False", "MEM0_DIR": str(root / "mem0" / "mem0home")}
    timeout = 600 + len(house.steps) * (20 * delay + 5)
    done = subprocess.run(  # noqa: S603  # the given interpreter, our own runner and files
        [str(python), str(RUNNER), str(job_path), str(out_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Mem0 runner failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    out = json.loads(out_path.read_text(encoding="utf-8"))
    requests = server.chat_requests
    rows = []
    for step, timing in zip(house.steps, out["steps"], strict=True):
        inside = [r for r in requests if timing["start"] <= r.received_at <= timing["end"]]
        wall = timing["end"] - timing["start"]
        rows.append(
            {"last": step.outcome is not None, "over_L": wall / delay, "calls": {"mem0": len(inside)}}
        )
    answers = {}
    for a in out["answers"]:
        stored = _answer(out["all_memories"], a["thing"])["places_shown"]
        answers[a["thing"]] = _answer(a["texts"], a["thing"]) | {"texts": a["texts"], "stored_places": stored}
    return _side(rows, answers, house) | {"version": out["version"], "memories": out["memories"]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    house = house_steps(args.steps)
    rules = [Rule(anywhere="You are a Memory Extractor", reply=mem0_reply), *memory_reply_rules()]
    report: dict[str, Any] = {
        "benchmark": "vs_mem0",
        "quick": args.quick,
        "delay_s": args.delay,
        "steps": len(house.steps),
        "episodes": sum(s.outcome is not None for s in house.steps),
        "questions": {t: {"truth": house.truth[t], "seen_at": house.seen[t]} for t in questions(house)},
        "faked": (
            "the model: one scripted OpenAI-compatible server on 127.0.0.1 answers every chat call of both "
            f"systems after L = {args.delay} s with the relations the step summary states (the same "
            "function for robomem's spatial call and Mem0's extraction) and embeds with lexical hashed "
            "vectors at once; "
            "this compares memory-operation structure and staleness, not model quality"
        ),
        "robomem_ops": OPS["paper"],
    }
    with (
        ScriptedLLMServer(
            rules, fixed_delay_s=args.delay, embedding_delay_s=0.0, embedding_dim=EMBEDDING_DIM
        ) as server,
        tempfile.TemporaryDirectory(prefix="bench-vs-mem0-") as tmp,
    ):
        report["robomem"] = run_robomem(house, server, Path(tmp), args.delay)
        python = args.mem0_python
        if python.exists():
            report["mem0"] = run_mem0(house, server, Path(tmp), args.delay, python)
        else:
            report["mem0"] = {"skipped": f"no Mem0 venv at {python}; make it with: {MEM0_INSTALL}"}
        report["scripted_server_errors"] = server.errors
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"] = machine_info()
    report["created"] = now_iso()
    return report


def table(report: dict[str, Any]) -> str:
    """The side-by-side rows the README shows."""
    rows = ["| | robomem (paper preset's memory ops) | Mem0 |", "|---|---|---|"]

    def cell(side: str, kind: str, stat: str) -> str:
        data = report.get(side, {})
        if "skipped" in data:
            return "not run"
        figure = data[kind]["over_L"]
        return (
            f"{figure['median']} L (p95 {figure['p95']} L), n={figure['n']}"
            if stat == "over_L"
            else "{median} (mean {mean}, max {max})".format(**data[kind]["calls_per_step"])
        )

    for label, kind in (
        ("every step", "all_steps"),
        ("ordinary step", "ordinary_steps"),
        ("last step", "last_steps"),
    ):
        rows.append(
            f"| time ÷ L, {label} | {cell('robomem', kind, 'over_L')} | {cell('mem0', kind, 'over_L')} |"
        )
    rows.append(
        f"| model calls per step (median) | {cell('robomem', 'all_steps', 'calls')} | "
        f"{cell('mem0', 'all_steps', 'calls')} |"
    )

    def count(side: str, key: str) -> str:
        data = report.get(side, {})
        return f"{data[key]} of {data['questions']}" if "answers" in data else "not run"

    rows.append(
        '| "where is X?" after X moved: the first place retrieved for X is right | '
        f"{count('robomem', 'right')} | {count('mem0', 'right')} |"
    )
    rows.append(
        "| ... and the memory stores X only at its true place | "
        f"{count('robomem', 'stores_only_the_true_place')} | {count('mem0', 'stores_only_the_true_place')} |"
    )
    return "\n".join(rows)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--delay", type=float, default=None, help="L: seconds per chat reply (0.2; quick 0.02)"
    )
    parser.add_argument("--steps", type=int, default=None, help="memory steps (100; quick 14)")
    parser.add_argument(
        "--mem0-python",
        type=Path,
        default=DEFAULT_MEM0_PYTHON,
        help=f"Mem0's venv python ({DEFAULT_MEM0_PYTHON})",
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.delay = args.delay if args.delay is not None else (0.02 if args.quick else 0.2)
    args.steps = args.steps if args.steps is not None else (14 if args.quick else 100)
    if args.delay <= 0 or args.steps < 2:
        parser.error("--delay must be > 0 and --steps >= 2")
    return run(args)


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    return (
        f"{table(report)}\nL = {args.delay} s, {report['steps']} steps, {report['seconds']} s -> {args.out}"
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
