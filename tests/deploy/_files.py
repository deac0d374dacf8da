"""Readers for the deploy files, shared by the deploy tests: the compose file through ``yaml.safe_load`` and
the Dockerfile as a list of instructions (continuation lines joined, comments dropped, as Docker reads it)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
MAKEFILE = REPO / "Makefile"


@dataclass(frozen=True)
class Instruction:
    name: str  # upper case: FROM, RUN, COPY ...
    args: str


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    found = load_compose()["services"]
    assert isinstance(found, dict)
    return found


def dockerfile_instructions(text: str | None = None) -> list[Instruction]:
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker also drops comment lines inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        name, _, args = full.partition(" ")
        instructions.append(Instruction(name.upper(), " ".join(args.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by build stage, each group starting with its FROM."""
    groups: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.name == "FROM":
            groups.append([])
        elif not groups:
            assert instruction.name == "ARG", f"{instruction} before the first FROM"
            continue
        groups[-1].append(instruction)
    return groups


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) argument list, e.g. of ENTRYPOINT."""
    loaded = yaml.safe_load(args)
    assert isinstance(loaded, list), f"not in exec form: {args}"
    return [str(item) for item in loaded]


def pins(text: str, distribution: str) -> set[str]:
    """Every ``distribution==version`` pin in ``text``."""
    return set(re.findall(rf"{re.escape(distribution)}==([0-9A-Za-z.]+)", text))


def shell_words(command: str) -> list[str]:
    return shlex.split(command)
