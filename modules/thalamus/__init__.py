"""Thalamus: step summary and retrieval queries from perception and feedback (filled by issue #4)."""

__all__: tuple[str, ...] = ()
