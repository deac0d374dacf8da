"""The argument parser class shared by every robomem command."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias

__all__ = ("EXIT_USAGE", "Parser", "Subcommands")

#: Exit code for bad input and robomem errors (argparse's own convention).
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """Usage errors in the same one-line form as every other robomem error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"robomem: error [config]: {message} (see '{self.prog} --help')\n")


#: A string: `_SubParsersAction` is generic for type checkers only.
Subcommands: TypeAlias = "argparse._SubParsersAction[Parser]"
