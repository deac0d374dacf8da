"""Reading where a house keeps things from semantic memory's retrieved lessons (and nothing else)."""

from __future__ import annotations

from envs.skill_language import SkillSet
from modules.hippocampus.base import StoreResult
from modules.prefrontal.lessons import kept_places, task_lessons

ALFRED = SkillSet(
    (
        "find a Mug",
        "find a Cabinet",
        "find a Cabinet_2",
        "find a Cabinet_12",
        "find a Drawer",
        "pick up the Mug",
        "open the Cabinet",
        "open the Cabinet_2",
        "open the Cabinet_12",
    )
)
HABITAT = SkillSet(
    (
        "navigate to the cabinet 1",
        "navigate to the cabinet 12",
        "navigate to the table 1",
        "pick up the toy airplane",
        "pick up the mug",
    )
)


def _semantic(*lessons: tuple[str, str]) -> StoreResult:
    data = [
        {"id": str(i), "level": level, "text": text, "score": 1.0} for i, (level, text) in enumerate(lessons)
    ]
    return StoreResult("semantic", tuple(f"[{lv}] {t}" for lv, t in lessons), data)


def test_a_task_lesson_says_where_a_type_is_kept_in_rank_order() -> None:
    result = _semantic(
        ("action", "Picking up fails while holding a Mug at Cabinet_2."),  # action-level: not about the house
        ("task", "In house_1, a Mug was found at Cabinet_12."),
        ("task", "In house_1 there is no Drawer."),
        ("task", "In house_1, the Mug was not in Cabinet."),
        ("task", "Mugs are kept in Cabinet_2 in this house."),  # an LLM creator's wording
    )
    assert kept_places(result, ALFRED, ["Mug", "Drawer"]) == {"Mug": ("Cabinet_12", "Cabinet_2")}


def test_a_name_is_not_read_inside_a_longer_one() -> None:
    assert kept_places(_semantic(("task", "In h, a Mug was found at Cabinet_12.")), ALFRED, ["Mug"]) == {
        "Mug": ("Cabinet_12",)
    }
    habitat = _semantic(("task", "In h, a toy airplane was found at cabinet 12."), ("task", "a mug: table 1"))
    assert kept_places(habitat, HABITAT, ["toy airplane", "mug"]) == {
        "toy airplane": ("cabinet 12",),
        "mug": ("table 1",),
    }


def test_lines_are_read_when_a_store_gives_no_data_and_nothing_without_the_store() -> None:
    lines = StoreResult("semantic", ("[task] In h, a Mug was found at Cabinet.", "[action] Mug at Cabinet_2"))
    assert list(task_lessons(lines)) == ["In h, a Mug was found at Cabinet."]
    assert kept_places(lines, ALFRED, ["Mug"]) == {"Mug": ("Cabinet",)}
    assert kept_places(None, ALFRED, ["Mug"]) == {}


def test_lessons_naming_the_wanted_attributes_come_first() -> None:
    result = _semantic(
        ("task", "In h, a blue Mug was found at Cabinet_12."),
        ("task", "In h, a red Mug was found at Cabinet_2."),
    )
    assert kept_places(result, ALFRED, ["Mug"], {"Mug": {"color": "red"}}) == {
        "Mug": ("Cabinet_2", "Cabinet_12")
    }
    assert kept_places(result, ALFRED, ["Mug"]) == {"Mug": ("Cabinet_12", "Cabinet_2")}
