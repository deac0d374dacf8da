"""Scripted replies for every LLM role of the RoboMemory agent, computed from each prompt so they are valid
and plausible (what a careful model would answer), for the benchmarks and the golden-prompt tests.

The planner answers with the next (at most ``plan_len``) actions of the task's oracle solution, looked up from
the instruction and the action list in its prompt, resuming after the steps its history section lists or
says temporal memory holds; the critic approves; the thalamus turns the observation into a first-person
summary and 4 queries; the episodic Creator lists what was done and what failed; the other memory
operations answer as in ``bench/_replies.py``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bench._replies import memory_reply_rules
from robomem.testing.scripted_llm import RecordedRequest, Rule

__all__ = (
    "agent_rules",
    "critic_reply",
    "episode_account",
    "planner_reply",
    "queries_reply",
    "summary_reply",
)


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


def critic_reply(request: RecordedRequest) -> str:
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


def episode_account(request: RecordedRequest) -> str:
    """The episodic Creator: the trajectory's actions that worked, in order, what failed and why, a lesson."""
    text = request.last_user_text
    steps = re.findall(r"^\d+\. (.+?) -> (ok|FAILED: .+)$", text, re.M)
    done = ", ".join(action for action, result in steps if result == "ok")
    failed = [f"'{a}' failed ({r.removeprefix('FAILED: ')})" for a, r in steps if r != "ok"]
    account = f"Did: {done or 'nothing'}."
    if failed:
        account += " " + "; ".join(failed) + ". Next time check the hand before putting down or placing."
    return json.dumps({"account": account})


def agent_rules(gold: dict[tuple[str, tuple[str, ...]], tuple[str, ...]], plan_len: int) -> list[Rule]:
    """A usable reply for every role of the agent with every operation on the model."""
    return [
        Rule(role="planner", reply=planner_reply(gold, plan_len)),
        Rule(role="critic", reply=critic_reply),
        Rule(role="thalamus.summary", reply=summary_reply),
        Rule(role="thalamus.queries", reply=queries_reply),
        Rule(role="memory.episodic.creator", reply=episode_account),
        *memory_reply_rules(),
    ]
