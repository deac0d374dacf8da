"""robomem's wheel: pyproject.toml's build backend reads its metadata, and the wheel, built offline with the
venv's own setuptools, holds every file the packages read at run time (prompts, suites, guides, the report's
assets, ``py.typed``) and runs from where it is unpacked: an evaluation and its report, nothing read from the
checkout."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("robomem", "modules", "envs")
#: The first setuptools that reads ``project.license`` as an SPDX expression (PEP 639); older ones refuse it.
PEP_639_SETUPTOOLS = (77, 0, 3)


def _floor(requirement: str) -> tuple[int, ...]:
    match = re.fullmatch(r"setuptools>=([\d.]+)", requirement.replace(" ", ""))
    assert match is not None, f"{requirement!r}: a setuptools floor was expected"
    return tuple(int(part) for part in match.group(1).split("."))


def test_the_build_backends_floor_reads_the_license_expression() -> None:
    """``license = "Apache-2.0"`` with ``setuptools>=68`` failed to build wherever setuptools 68 to 76 was the
    one used (an offline build, a pinned index): "project.license must be valid exactly by one definition"."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(project["project"]["license"], str)  # an SPDX expression, not a table
    backend = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    dev = [r for r in project["project"]["optional-dependencies"]["dev"] if r.startswith("setuptools")]
    assert [_floor(r) >= PEP_639_SETUPTOOLS for r in backend + dev] == [True, True]
    classifiers = project["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]  # refused next to an expression


def _data_files() -> set[str]:
    """Every file of the source packages that is not Python: what the packages read at run time."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline without build isolation (the venv's setuptools) from a copy of the project
    (pip builds in the source folder: not in the repository)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--no-index", "--wheel-dir", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (built,) = (work / "dist").glob("robomem-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_file_the_packages_read(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(metadata).decode("utf-8")
    data = _data_files()
    # The ones named, so that a test that finds no data files at all cannot pass.
    assert {
        "robomem/py.typed",
        "robomem/report/assets/common.js",
        "modules/prefrontal/prompts/planner.txt",
        "modules/hippocampus/prompts/episodic_create.txt",
        "envs/guides/alfred.txt",
        "envs/household/data/alfred_v1.json",
    } <= data
    assert sorted(data - names) == []
    assert "License-Expression: Apache-2.0" in meta.splitlines()
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "__pycache__" in n]


@pytest.mark.slow
def test_the_unpacked_wheel_runs_an_evaluation_and_its_report(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "import sys, robomem\n"
        "from robomem.cli.main import main\n"
        f"assert robomem.__file__.startswith({str(site)!r}), robomem.__file__\n"
        "run = sys.argv[1]\n"
        "light = ['agent.memory.embedder.type=hashing', 'agent.memory.vector.type=exact']\n"
        "assert main(['eval', '--subset', 'base', '--episodes', '1', '--no-progress', '--run-dir', run,"
        " *light]) == 0\n"
        "assert main(['report', run, '--out', run + '/report.html']) == 0\n"
    )
    # The unpacked wheel first on the path (before the editable install of the checkout), run from elsewhere.
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "run")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "unpack(" in page and "DecompressionStream" in page  # the page's script came from the wheel
