"""Prefrontal cortex: planner and critic (filled by issue #4)."""

__all__: tuple[str, ...] = ()
