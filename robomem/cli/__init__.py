"""The ``robomem`` command line: ``robomem eval`` and ``robomem suites``."""

from robomem.cli.main import build_parser, main

__all__ = ("build_parser", "main")
