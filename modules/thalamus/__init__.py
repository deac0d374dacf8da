"""Thalamus: step summary and retrieval queries, produced from perception and feedback."""

from modules.thalamus.base import Perceived, Thalamus
from modules.thalamus.deterministic import DeterministicThalamus

__all__ = ("DeterministicThalamus", "Perceived", "Thalamus")
