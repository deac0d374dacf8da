"""Rendering shared by the LLM planner and critic: prompt files, bounded memory and history sections, and
the user message (text plus the observation's images).

Prompts live as ``prompts/<name>.txt`` next to this module and use ``$name`` placeholders
(:class:`string.Template`), because the prompts themselves contain JSON braces. Every variable part is
capped by characters, so one verbose store or a long episode cannot blow the context window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from string import Template

from modules.hippocampus.base import StoreResult
from modules.prefrontal.base import ExecutedAction
from robomem.llm.base import ChatMessage, image_message, text_message

__all__ = (
    "MEMORY_TITLES",
    "clip",
    "history_section",
    "load_prompt",
    "memory_section",
    "render",
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


def memory_section(memory: Mapping[str, StoreResult], chars_per_store: int) -> str:
    """One titled block per store that took part; a store that is missing (ablated) gets no block, one
    that found nothing says so, so the model can tell "no memory" from "nothing relevant"."""
    if not memory:
        return "(no memory available)"
    names = [n for n in MEMORY_TITLES if n in memory] + sorted(n for n in memory if n not in MEMORY_TITLES)
    blocks = []
    for name in names:
        title = MEMORY_TITLES.get(name, f"{name.capitalize()} memory")
        body = _clip_lines(memory[name].lines, chars_per_store) or "(nothing relevant retrieved)"
        blocks.append(f"### {title}\n{body}")
    return "\n\n".join(blocks)


def _action_id(action: str, skills: Sequence[str]) -> int:
    try:
        return skills.index(action)
    except ValueError:
        return -1  # not in the current list (it changed, or the action was invalid): EB's invalid id


def history_section(
    history: Sequence[ExecutedAction], skills: Sequence[str], *, max_steps: int, chars: int
) -> str:
    """EmbodiedBench's history lines, the most recent ones that fit in ``max_steps`` and ``chars``."""
    recent = history[-max_steps:] if max_steps > 0 else ()
    lines = [
        f"Step {h.step}, action id {_action_id(h.action, skills)}, {h.action}, "
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
    omitted = len(history) - len(kept)
    if omitted and kept:
        kept.insert(0, f"({omitted} earlier steps omitted)")
    elif omitted:
        kept.append(f"({omitted} steps taken; too long to list)")
    return "\n".join(kept) if kept else "(no actions taken yet)"


def user_message(text: str, images: Sequence[str], max_images: int) -> ChatMessage:
    """The prompt as one user message (EB's single-turn style), with the latest ``max_images`` frames."""
    frames = list(images)[-max_images:] if max_images > 0 else []
    return image_message("user", text, frames) if frames else text_message("user", text)
