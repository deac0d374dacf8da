"""Failures that last: an action that failed in this house because of the house itself ("The drawer 3 is
jammed and does not open"), not because of what the agent did (it was far away, holding something). Such a
failure will happen again, every episode, until someone repairs the thing.

Two readers: the episode's own history (the planner does not try a receptacle again that would not open a
minute ago) and long-term memory's retrieved content — episodic trajectories of this house, and semantic
task-level lessons about it — which **only the critic** reads (:mod:`modules.prefrontal.critic`): the
planner proposes what it would do anyway, and the critic vetoes what memory says will fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from envs.skill_language import Feedback, SkillSet, parse_skill, strip_invalid
from modules.hippocampus.base import StoreResult
from modules.prefrontal.lessons import task_lessons
from modules.prefrontal.recall import parse_trajectory

__all__ = ("lasting_failures", "stuck_name")

#: A semantic lesson's record of such a failure (written by :mod:`modules.hippocampus.lessons`).
_LESSON = re.compile(r"'(?P<action>[^']+)' fails(?:: (?P<why>.*))?$")


def stuck_name(feedback: str) -> str | None:
    """The receptacle the feedback says would not open, if it says so."""
    match = Feedback.STUCK.search(feedback)
    return match.group(1) if match else None


def lasting_failures(memory: Mapping[str, StoreResult], skills: SkillSet, site: str) -> dict[str, str]:
    """Action text -> why it will fail, from what memory retrieved about this house (``site``): failed steps
    of its retrieved episodes whose feedback blames the house, and its task-level lessons that record one.
    Only actions in this episode's skill list count (another house's ``drawer 3`` is another drawer)."""
    found: dict[str, str] = {}
    for action, why in _from_episodes(memory.get("episodic"), site):
        if action in skills:
            found.setdefault(action, f"it failed in an earlier episode here ({why})")
    for text in task_lessons(memory.get("semantic")):
        match = _LESSON.search(text)
        names_site = re.search(rf"(?<![\w-]){re.escape(site)}(?![\w-])", text) is not None
        if match is not None and names_site and match["action"] in skills:
            found.setdefault(match["action"], f"a lesson says so ({match['why'] or text})")
    return found


def _from_episodes(result: StoreResult | None, site: str) -> Iterable[tuple[str, str]]:
    if result is None:
        return
    items = (
        [d for d in result.data if isinstance(d, dict)]
        if isinstance(result.data, list)
        else [{"text": line} for line in result.lines]
    )
    for item in items:
        trajectory = parse_trajectory(str(item.get("text", "")))
        if trajectory is None or trajectory.site != site or item.get("site") not in (None, site):
            continue
        for action, failure in trajectory.steps:
            call = parse_skill(action)
            if failure is not None and call is not None and call.verb == "open" and stuck_name(failure):
                yield action, strip_invalid(failure)
