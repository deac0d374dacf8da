"""Entry point of the ``robomem`` console script and ``python -m robomem``.

Any :class:`robomem.errors.RobomemError` (bad config, unknown plug-in, env failure before the run) ends the
command with one line ``robomem: error [<code>]: <message>`` on stderr (the code is the README's
troubleshooting key, e.g. ``env-connection``) and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from robomem import __version__
from robomem.cli._parser import EXIT_USAGE, Parser
from robomem.cli.eval import add_eval_parser
from robomem.cli.memory import add_memory_parser
from robomem.cli.report import add_report_parser
from robomem.cli.suites import add_suites_parser
from robomem.errors import RobomemError

__all__ = ("build_parser", "main")

#: Exit codes: 1 = the command ran and found a problem (stale suite), 2 = bad input or robomem error.
EXIT_INTERRUPTED = 130
#: The reader of stdout went away (``robomem memory show | head``): the status of a process SIGPIPE ended.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="robomem", description="RoboMemory agents: evaluation and task suites.")
    parser.add_argument("--version", action="version", version=f"robomem {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    add_eval_parser(commands)
    add_suites_parser(commands)
    add_memory_parser(commands)
    add_report_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit: a reader gone by now is noticed while it can be handled
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        # Unknown arguments are dotted config overrides (`env.max_steps=20`); each command checks them.
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        code: int = args.run(args, extra)
    except RobomemError as err:
        _print_error(str(err), err.code)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    return code


def _discard_stdout() -> None:
    """What is left in stdout's buffer goes nowhere: flushed at exit into the broken pipe, it would make
    Python print a traceback after all."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout with no file behind it (captured in tests): nothing to do
        pass


def _print_error(message: str, code: str | None = None) -> None:
    # One line, whatever the message carried (env errors may quote multi-line server output).
    tag = f" [{code}]" if code else ""
    print(f"robomem: error{tag}: {' '.join(message.split())}", file=sys.stderr)
