"""``robomem suites generate|check``: regenerate the committed household task suites, or verify that the
committed files are byte-identical to what the generator produces now (exit 1 when they are not)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from robomem.cli._parser import Subcommands
from robomem.errors import SuiteError
from robomem.storage import write_bytes_atomic

__all__ = ("PROFILES", "add_suites_parser", "run_suites")

PROFILES = ("alfred", "habitat")


def add_suites_parser(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "suites", help="generate or check the household task suites", description=__doc__
    )
    parser.add_argument("action", choices=("generate", "check"))
    parser.add_argument("--profile", choices=PROFILES, help="only this profile (default: all)")
    parser.add_argument(
        "--out", metavar="DIR", help="folder to write to / compare against (default: the package's)"
    )
    parser.set_defaults(run=run_suites)


def _generators() -> list[tuple[str, Callable[[str], str]]]:
    """(suite version, generator) of every committed suite kind: the EB-style suites and the memory suites."""
    # Imported by name at call time: the CLI must work (and type-check) while the generator is absent.
    try:
        generate = importlib.import_module("envs.household.generate")
        memory = importlib.import_module("envs.household.memory")
    except ImportError as err:
        raise SuiteError(f"the household suite generator is not available ({err})") from None
    return [
        (cast(str, generate.SUITE_VERSION), cast(Callable[[str], str], generate.generate_suite)),
        (cast(str, memory.MEMORY_VERSION), cast(Callable[[str], str], memory.generate_memory_suite)),
    ]


def _suite_path(profile: str, version: str) -> Path:
    suites = importlib.import_module("envs.household.suites")
    return cast(Callable[[str, str], Path], suites.suite_path)(profile, version)


def run_suites(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise SuiteError(f"unrecognized arguments: {' '.join(extra)}")
    stale = 0
    for version, generate_suite in _generators():
        for profile in [args.profile] if args.profile else PROFILES:
            data = generate_suite(profile).encode("utf-8")
            target = _suite_path(profile, version)
            if args.out is not None:
                target = Path(args.out) / target.name
            if args.action == "generate":
                try:
                    write_bytes_atomic(target, data)
                except OSError as err:
                    raise SuiteError(f"cannot write {target}: {err.strerror or err}") from None
                print(f"wrote {target}")
            elif target.is_file() and target.read_bytes() == data:
                print(f"up to date: {target}")
            else:
                stale += 1
                state = "differs from the generator's output" if target.exists() else "is missing"
                print(f"robomem: {target} {state}; run 'make suites' and commit the result", file=sys.stderr)
    return 1 if stale else 0
