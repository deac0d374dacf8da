"""robomem: an open, runnable implementation of RoboMemory (arXiv 2508.01415)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robomem._guard import check_sibling_packages

if TYPE_CHECKING:
    from robomem.config import Config
    from robomem.eval.metrics import Summary

check_sibling_packages()

__version__ = "0.1.0"
__all__ = ("__version__", "evaluate")


def evaluate(
    config: str | Path | Config | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
    *,
    resume: str | Path | None = None,
    fresh_memory: bool = False,
    progress: bool = False,
    verbose: bool = False,
) -> Summary:
    """Run an evaluation as ``robomem eval`` does and return its summary (SR, GC, CIs per subset).

    ``config``: a preset path (``configs/demo.yaml``), a :class:`robomem.config.Config`, or ``None`` for the
    default agent. ``overrides``: ``["eval.episodes=2"]`` or ``{"eval.episodes": 2}`` (dotted keys, as on
    the command line). ``resume``: an interrupted run's folder (then ``config`` must be ``None``). Results go
    to ``run.dir`` if given (it must be new or empty), else to a new folder under ``runs/``.
    Errors are :class:`robomem.errors.RobomemError` subclasses (``ConfigError`` for bad input)."""
    import json

    from robomem.cli.eval import execute  # imported on use: it loads langgraph, the stores, ...

    if isinstance(overrides, Mapping):
        # JSON is YAML: strings, numbers, lists and mappings keep their type.
        overrides = [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
    elif isinstance(overrides, str):
        raise TypeError("overrides is a list of 'dotted.key=value' strings or a mapping, not one string")
    summary, _run_dir = execute(
        config, overrides, resume=resume, fresh_memory=fresh_memory, progress=progress, verbose=verbose
    )
    return summary
