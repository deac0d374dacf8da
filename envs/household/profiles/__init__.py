"""Action profiles of the household simulator: EB-ALFRED's and EB-Habitat's grammars and feedback."""

from envs.household.profiles.alfred import AlfredProfile
from envs.household.profiles.base import Outcome, Profile, Skill
from envs.household.profiles.habitat import HabitatProfile

__all__ = ("PROFILES", "AlfredProfile", "HabitatProfile", "Outcome", "Profile", "Skill")

PROFILES: dict[str, Profile] = {"alfred": AlfredProfile(), "habitat": HabitatProfile()}
