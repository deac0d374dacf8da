"""Cerebellum: executes one skill through the environment contract (filled by issue #4)."""

__all__: tuple[str, ...] = ()
