"""What long-term memory's retrieved content tells the symbolic planner. Only the stores' retrieved lines
and data are read (never the simulator), so removing a store removes what it contributes.

* Semantic task-level lessons that name a kind of thing and a place of this house ("In house_3, a Mug was
  found at Cabinet_2", or an LLM creator's "mugs are kept in Cabinet_2"): where this house keeps that kind of
  thing. The planner searches there first; unlike spatial memory, this survives the house being re-staged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from envs.skill_language import SkillSet
from modules.hippocampus.base import StoreResult

__all__ = ("kept_places", "task_lessons")

_NEGATION = re.compile(r"\b(no|not|never|none)\b|n't\b", re.IGNORECASE)


def task_lessons(result: StoreResult | None) -> Iterator[str]:
    """The texts of the task-level (house-specific) lessons semantic memory retrieved, best first."""
    if result is None:
        return
    if isinstance(result.data, list):
        for item in result.data:
            if isinstance(item, dict) and item.get("level") == "task" and isinstance(item.get("text"), str):
                yield item["text"]
        return
    for line in result.lines:  # a store without structured data: its lines are "[level] text"
        if line.startswith("[task] "):
            yield line.removeprefix("[task] ")


def _places(skills: SkillSet) -> list[str]:
    """Names of the house's receptacles the skill list reveals, longest first (``Cabinet_12`` before
    ``Cabinet_1``)."""
    names = skills.places() if not skills.alfred else skills.args("find")
    return sorted({n for n in names if not skills.pickable(n)}, key=len, reverse=True)


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?:s|es)?(?![\w-])", text, re.IGNORECASE) is not None


def kept_places(
    result: StoreResult | None,
    skills: SkillSet,
    types: Iterable[str],
    attributes: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """For each of ``types``: the places task-level lessons say things of that type were found or are kept,
    in the lessons' rank order; where ``attributes`` describe the wanted thing of a type ("red"), lessons
    naming all of them come first ("a red Mug was found at ..." before another mug's)."""
    lessons = list(task_lessons(result))
    if not lessons:
        return {}
    places = _places(skills)
    kept: dict[str, tuple[str, ...]] = {}
    for type_name in types:
        found: list[str] = []
        wanted = tuple((attributes or {}).get(type_name, {}).values())
        ranked = sorted(lessons, key=lambda text: not all(_mentions(text, w) for w in wanted))
        for text in ranked:
            if not _mentions(text, type_name) or _NEGATION.search(text):
                continue  # "there is no Mug", "the Mug was not at Cabinet_2": no place to look
            rest = text
            for place in places:
                if place == type_name:
                    continue  # ALFRED's first instance of a receptacle type is named like the type
                pattern = rf"(?<![\w-]){re.escape(place)}(?![\w-]| \d)"
                if re.search(pattern, rest) and place not in found:
                    found.append(place)
                    rest = re.sub(pattern, " ", rest)  # "Cabinet_12" must not also count as "Cabinet_1"
        if found:
            kept[type_name] = tuple(found)
    return kept
