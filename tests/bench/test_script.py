"""The benchmark scripts' shared ``main`` (:func:`bench._script.bench_main`): standard arguments, the
report's envelope, the JSON report and the summary line; bad arguments exit 2 before anything is written."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from bench._script import bench_main


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=3)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    if args.n < 1:
        parser.error("--n must be >= 1")
    return {"benchmark": "toy", "quick": args.quick, "n": args.n}


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    return f"toy: n {report['n']} -> {args.out}"


def _main(argv: list[str], out: Path) -> int:
    return bench_main("Toy bench.\n\nMore.", out, argv, arguments=_arguments, run=_run, summary=_summary)


def test_the_report_gets_its_envelope_and_the_summary_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r" / "toy.json"
    assert _main(["--quick", "--n", "5"], out) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report) == ["benchmark", "quick", "n", "machine", "created"]
    assert report["quick"] is True and report["n"] == 5 and report["machine"]["cpu_count"]
    assert capsys.readouterr().out == f"toy: n 5 -> {out}\n"
    other = tmp_path / "other.json"
    assert _main(["--out", str(other)], out) == 0
    assert json.loads(other.read_text(encoding="utf-8"))["n"] == 3


@pytest.mark.parametrize("argv", [["--n", "0"], ["--n", "x"], ["--bogus"]])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _main(argv, tmp_path / "toy.json")
    assert exit_info.value.code == 2
    assert not (tmp_path / "toy.json").exists()
