"""Long-term recall for a prompt: past episodes packed into a token budget, whole or not at all.

A past trajectory cut after its first steps misleads more than it helps (the second half of a demonstration
is where the task gets done), so an episode is never truncated. Each one is rendered compactly, one line
per step (an action that worked is just its name; a failed one adds the reason), and episodes are taken
in the store's rank order until the next one no longer fits; the prompt then says how many were left
out. An episode too long for the budget at full detail is compressed first: failure reasons shortened
to their first sentence and runs of the same action merged (``4-6. pick up the Mug ✗×3: ...``). The
best-ranked episode is always shown, even over budget, since a prompt without it has no recall at all.

Tokens are estimated as ``ceil(chars / 4)``, as elsewhere in robomem (no tokenizer on the hot path).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from envs.skill_language import INVALID_PREFIX
from modules.hippocampus.base import StoreResult

__all__ = ("Trajectory", "estimate_tokens", "pack_episodes", "parse_trajectory", "render_compact")

#: The episodic store's item text: ``Task: ... | site: ... | outcome: ... | 1. a -> ok; 2. b -> reason``.
_ITEM = re.compile(
    r"^Task: (?P<task>.*?) \| site: (?P<site>.*?) \| outcome: (?P<outcome>.*?) \| (?P<steps>.*)$", re.S
)
#: ``k. `` opening a step: an action (which never holds ``;``) then `` -> `` must follow.
_STEP_START = re.compile(r"(?:^|; )(\d+)\. (?=[^;]*? -> )")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")
#: A first sentence that only says that something failed ("Open action failed."), not why.
_NO_WHY = re.compile(r"^[A-Z][a-z]*(?: [a-z]+)? action failed\.$")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) + 1


@dataclass(frozen=True)
class Trajectory:
    task: str
    site: str
    outcome: str
    #: ``(action, None)`` for a step that worked, ``(action, reason)`` for one that failed.
    steps: tuple[tuple[str, str | None], ...]


def parse_trajectory(text: str) -> Trajectory | None:
    """The episodic store's item text as a trajectory, or ``None`` when it is in another form (e.g. written
    by a model): such an item is shown as it is."""
    match = _ITEM.match(text.strip())
    if match is None:
        return None
    body = match["steps"]
    starts = list(_STEP_START.finditer(body))
    # Step numbers run 1, 2, 3 ...; a "; 7. " inside a feedback string is not a step boundary.
    bounds: list[re.Match[str]] = []
    for m in starts:
        if int(m.group(1)) == len(bounds) + 1:
            bounds.append(m)
    if not bounds or bounds[0].start() != 0:
        return None
    steps: list[tuple[str, str | None]] = []
    for i, m in enumerate(bounds):
        end = bounds[i + 1].start() if i + 1 < len(bounds) else len(body)
        action, arrow, result = body[m.end() : end].partition(" -> ")
        if not arrow:
            return None
        result = result.strip()
        steps.append((action.strip(), None if result == "ok" else result.removeprefix(f"{INVALID_PREFIX} ")))
    return Trajectory(match["task"].strip(), match["site"].strip(), match["outcome"].strip(), tuple(steps))


def _short(reason: str) -> str:
    text = reason.strip()
    match = _FIRST_SENTENCE.match(text)
    if match is None:
        return text
    first = match.group(1)
    if _NO_WHY.match(first):  # ALFRED's "Open action failed." says no why; the next sentence does
        rest = text[match.end() :].strip()
        then = _FIRST_SENTENCE.match(rest)
        return f"{first} {then.group(1) if then else rest}".strip()
    return first


def render_compact(trajectory: Trajectory, *, compress: bool = False) -> str:
    """One header line, then one line per step (``compress``: shorter reasons, repeated actions merged)."""
    lines = [f'- "{trajectory.task}" ({trajectory.site}): {trajectory.outcome}']
    i = 0
    steps = trajectory.steps
    while i < len(steps):
        action, reason = steps[i]
        j = i + 1
        if compress:
            while j < len(steps) and steps[j] == steps[i]:
                j += 1
        numbers = f"{i + 1}" if j == i + 1 else f"{i + 1}-{j}"
        if reason is None:
            lines.append(f"  {numbers}. {action}" + (f" ×{j - i}" if j > i + 1 else ""))
        else:
            why = _short(reason) if compress else " ".join(reason.split())
            times = f"×{j - i}" if j > i + 1 else ""
            lines.append(f"  {numbers}. {action} ✗{times}: {why}")
        i = j
    return "\n".join(lines)


def _renderings(text: str) -> tuple[str, ...]:
    """The item at full detail, then compressed (when that is shorter)."""
    trajectory = parse_trajectory(text)
    if trajectory is None:
        return ("- " + " ".join(text.split()),)
    full = render_compact(trajectory)
    compact = render_compact(trajectory, compress=True)
    return (full, compact) if len(compact) < len(full) else (full,)


def _texts(result: StoreResult) -> list[str]:
    """Whole item texts: the store's structured ``data`` (its ``lines`` may be cut), else its lines."""
    data = result.data
    if isinstance(data, Sequence) and data and all(isinstance(d, dict) and "text" in d for d in data):
        return [str(d["text"]) for d in data]
    return [line for line in result.lines if line.strip()]


def pack_episodes(result: StoreResult, budget_tokens: int) -> str:
    """Whole past episodes in rank order within ``budget_tokens`` (see the module docstring)."""
    texts = _texts(result)
    kept: list[str] = []
    used = 0
    for text in texts:
        options = _renderings(text)
        fitting = next((r for r in options if used + estimate_tokens(r) <= budget_tokens), None)
        if fitting is None and not kept:
            fitting = options[-1]
        if fitting is None:
            break
        kept.append(fitting)
        used += estimate_tokens(fitting)
    left_out = len(texts) - len(kept)
    if left_out:
        plural = "s" if left_out > 1 else ""
        kept.append(f"({left_out} less similar past episode{plural} left out for length)")
    return "\n".join(kept)
