"""robomem: an open, runnable implementation of RoboMemory (arXiv 2508.01415)."""

from robomem._guard import check_sibling_packages

check_sibling_packages()

__version__ = "0.1.0"
__all__ = ("__version__",)
