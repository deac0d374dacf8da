"""What each skill family of an action profile does and when it is valid, as text for a planner's prompt.

Written for robomem from EmbodiedBench's documented skill semantics (see ``envs/household/profiles`` for the
simulator that implements them); EmbodiedBench's own prompt text is not used. One file per profile
(``<profile>.txt``); an environment whose world adds rules of its own appends them (see
:meth:`envs.base.Env.skill_guide`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ("GUIDE_DIR", "profile_guide")

GUIDE_DIR = Path(__file__).parent


@lru_cache(maxsize=16)
def profile_guide(profile: str) -> str:
    """The guide of ``profile`` (``alfred``, ``habitat``), or ``""`` for a profile robomem has none for."""
    if not profile or not profile.isidentifier():
        return ""  # never turn a profile name into an arbitrary path
    path = GUIDE_DIR / f"{profile}.txt"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""
