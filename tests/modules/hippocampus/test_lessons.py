"""The deterministic lesson creator: a receptacle of this house that would not open becomes a task-level
lesson naming the action (what the critic reads back), not a generic one without instance ids."""

from __future__ import annotations

from envs.skill_language import SkillSet
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StoreResult
from modules.hippocampus.lessons import DeterministicLessonCreator, StepFact
from modules.prefrontal.failures import lasting_failures


def _fact(action: str, feedback: str, success: bool = False) -> StepFact:
    return StepFact(action, feedback, success, place="drawer 3", holding_type=None)


def test_a_jammed_receptacle_is_a_lesson_about_this_house_and_its_action() -> None:
    context = EpisodeContext(site="house_7", episode_id="e", instruction="Take the pen out of the drawer")
    outcome = EpisodeOutcome(context, success=False, progress=0.0, steps=())
    facts = [
        _fact("navigate to the drawer 3", "Last action executed successfully", True),
        _fact("open the drawer 3", "Last action is invalid. The drawer 3 is jammed and does not open."),
    ]
    (lesson,) = DeterministicLessonCreator().create(outcome, facts)
    assert lesson.metadata["level"] == "task" and lesson.metadata["site"] == "house_7"
    assert lesson.text == "In house_7, 'open the drawer 3' fails: The drawer 3 is jammed and does not open."
    # ... which is what the critic reads back from semantic memory's retrieved lessons.
    retrieved = {"semantic": StoreResult("semantic", (), [{"level": "task", "text": lesson.text}])}
    skills = SkillSet(("navigate to the drawer 3", "open the drawer 3", "close the drawer 3"), "habitat")
    assert set(lasting_failures(retrieved, skills, "house_7")) == {"open the drawer 3"}
