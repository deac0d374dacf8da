"""Rendering shared by the LLM planner and critic: prompt files, bounded memory and history sections, and
the user message (text plus the observation's images).

Prompts live as ``prompts/<name>.txt`` next to this module and use ``$name`` placeholders
(:class:`string.Template`), because the prompts themselves contain JSON braces. Every variable part is
bounded, so one verbose store or a long episode cannot blow the context window: short-term stores by
characters (whole lines), long-term recall by a token budget of whole episodes (:mod:`.recall`), and the
action history by a number of steps — by default only the steps temporal memory does not hold yet, so the
prompt never carries the same steps twice (temporal memory is the planner's account of the episode, as in
the paper; a raw history beside it would make it redundant).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from string import Template

from modules.hippocampus.base import StoreResult
from modules.prefrontal.base import ExecutedAction
from modules.prefrontal.recall import pack_episodes
from robomem.llm.base import ChatMessage, image_message, text_message

__all__ = (
    "MEMORY_TITLES",
    "budget_line",
    "clip",
    "history_section",
    "load_prompt",
    "memory_section",
    "render",
    "section",
    "temporal_last_step",
    "user_message",
)

PROMPT_DIR = Path(__file__).parent / "prompts"
_MORE = " …"

#: Section titles, in the order the planner reads them. Stores not listed here follow, by name.
MEMORY_TITLES: Mapping[str, str] = {
    "temporal": "Temporal memory (what happened so far in this task)",
    "spatial": "Spatial memory (where things are)",
    "episodic": "Episodic memory (similar past tasks)",
    "semantic": "Semantic memory (lessons learned)",
}


@lru_cache(maxsize=32)
def load_prompt(name: str) -> Template:
    return Template((PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def render(name: str, **variables: object) -> str:
    return load_prompt(name).safe_substitute({k: str(v) for k, v in variables.items()})


def section(title: str, body: str) -> str:
    """A titled block followed by a blank line, or nothing when ``body`` is empty (optional sections)."""
    body = body.strip()
    return f"## {title}\n{body}\n\n" if body else ""


def budget_line(steps_left: int | None, invalid_left: int | None) -> str:
    """What is left of the episode, as the environment counts it; ``""`` when there is no known limit."""
    parts = []
    if steps_left is not None:
        parts.append(f"You have {steps_left} step{'' if steps_left == 1 else 's'} left")
    if invalid_left is not None:
        parts.append(
            f"{invalid_left} more invalid action{'' if invalid_left == 1 else 's'} will end the episode"
        )
    return "; ".join(parts) + ".\n" if parts else ""


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(_MORE))].rstrip() + _MORE


def _clip_lines(lines: Sequence[str], limit: int) -> str:
    """Whole lines from the start (stores rank their lines, most relevant first) within ``limit``."""
    kept: list[str] = []
    used = 0
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if used + len(line) + 1 > limit:
            if not kept:  # one huge line: better a cut line than nothing
                kept.append(clip(line, limit))
            else:
                kept.append(f"({len(lines) - len(kept)} more lines omitted)")
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def memory_section(
    memory: Mapping[str, StoreResult], chars_per_store: int, *, recall_tokens: int | None = None
) -> str:
    """One titled block per store that took part; a store that is missing (ablated) gets no block, one
    that found nothing says so, so the model can tell "no memory" from "nothing relevant". With
    ``recall_tokens``, episodic memory is packed as whole episodes into that many tokens instead of being
    clipped by characters."""
    if not memory:
        return "(no memory available)"
    names = [n for n in MEMORY_TITLES if n in memory] + sorted(n for n in memory if n not in MEMORY_TITLES)
    blocks = []
    for name in names:
        title = MEMORY_TITLES.get(name, f"{name.capitalize()} memory")
        if name == "episodic" and recall_tokens is not None:
            body = pack_episodes(memory[name], recall_tokens)
        else:
            body = _clip_lines(memory[name].lines, chars_per_store)
        blocks.append(f"### {title}\n{body or '(nothing relevant retrieved)'}")
    return "\n\n".join(blocks)


def temporal_last_step(memory: Mapping[str, StoreResult]) -> int | None:
    """The last step temporal memory holds (its entries carry ``last_step``), or ``None`` without it."""
    result = memory.get("temporal")
    if result is None or not isinstance(result.data, list):
        return None
    steps = [e.last_step for e in result.data if isinstance(getattr(e, "last_step", None), int)]
    return max(steps, default=None)


def _action_id(executed: ExecutedAction, skills: Sequence[str]) -> int:
    if executed.action_id is not None:
        return executed.action_id
    action = executed.action
    try:
        return skills.index(action)
    except ValueError:
        return -1  # not in the current list (it changed, or the action was invalid): EB's invalid id


def history_section(
    history: Sequence[ExecutedAction],
    skills: Sequence[str],
    *,
    max_steps: int,
    chars: int,
    after_step: int | None = None,
) -> str:
    """EmbodiedBench's history lines for the most recent actions, at most ``max_steps`` of them within
    ``chars``; with ``after_step``, only the actions after that step (the earlier ones are in temporal
    memory, which the prompt shows as well)."""
    covered = [h for h in history if after_step is not None and h.step <= after_step]
    pending = [h for h in history if after_step is None or h.step > after_step]
    recent = pending[-max_steps:] if max_steps > 0 else []
    lines = [
        f"Step {h.step}, action id {_action_id(h, skills)}, {h.action}, "
        f"env feedback: {' '.join(h.feedback.split()) or ('success' if h.success else 'failed')}"
        for h in recent
    ]
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        if used + len(line) + 1 > chars:
            break
        kept.append(line)
        used += len(line) + 1
    kept.reverse()
    omitted = len(pending) - len(kept)
    if omitted and kept:
        kept.insert(0, f"({omitted} earlier steps omitted)")
    elif omitted:
        kept.append(f"({omitted} steps taken; too long to list)")
    if covered:
        last = covered[-1].step
        kept.insert(0, f"({'step 1 is' if last <= 1 else f'steps 1-{last} are'} in temporal memory above)")
    return "\n".join(kept) if kept else "(no actions taken yet)"


def user_message(text: str, images: Sequence[str], max_images: int) -> ChatMessage:
    """The prompt as one user message (EB's single-turn style), with the latest ``max_images`` frames."""
    frames = list(images)[-max_images:] if max_images > 0 else []
    return image_message("user", text, frames) if frames else text_message("user", text)
