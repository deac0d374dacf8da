"""The ``robomem`` command line: ``robomem eval``, ``robomem suites``, ``robomem memory`` and ``robomem
report``."""

from robomem.cli.main import build_parser, main

__all__ = ("build_parser", "main")
