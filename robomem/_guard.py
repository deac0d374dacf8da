"""Import-time guard: ``envs`` and ``modules`` must be this project's folders.

An unrelated distribution on the package index is also named ``envs``; if it shadows ours, every later
error would be baffling, so fail at once and name it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

__all__ = ("check_sibling_packages",)


def check_sibling_packages() -> None:
    project_root = Path(__file__).resolve().parent.parent
    for name in ("envs", "modules"):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is not None and Path(origin).resolve().parent.parent == project_root:
            continue
        owners = importlib.metadata.packages_distributions().get(name, [])
        foreign = ", ".join(sorted(set(owners) - {"robomem"})) or "an unknown distribution"
        found = "is missing" if origin is None else f"resolves to {origin}"
        raise ImportError(
            f"robomem needs its own '{name}' package next to it, but '{name}' {found} "
            f"(provided by {foreign}). Uninstall it (pip uninstall {foreign}) or reinstall robomem "
            f"with 'pip install -e .' from the project folder."
        )
