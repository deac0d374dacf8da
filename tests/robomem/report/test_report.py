"""``robomem report``: the numbers (the same as bench.competence's), the page's content, the Markdown summary,
tolerance of missing and damaged files, and clean errors for bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from robomem.cli.main import main
from robomem.eval.stats import fmt_mean
from robomem.report.build import make_report, unique_labels
from robomem.report.load import load_run
from robomem.report.model import build_model
from robomem.report.page import unpack
from robomem.trace import read_trace
from tests.robomem.report.conftest import VARIANTS, Ablations, write_trace


def _data(html: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = unpack(html, "report-data")
    return data


def test_paired_step_differences_are_bench_competences(ablations: Ablations) -> None:
    model = build_model([load_run(p) for p in ablations.runs])
    bench_runs = {r["variant"]: r for r in ablations.bench["runs"]}
    compared = 0
    for variant, run in zip(VARIANTS, model["runs"], strict=True):
        expected = bench_runs[variant]["steps_delta_vs_full"]
        if variant == "full":
            assert expected is None and run["vs_reference"] is None
            continue
        assert run["vs_reference"]["all"]["steps"] == expected
        assert run["overall"] == bench_runs[variant]["all"]
        assert run["subsets"] == bench_runs[variant]["subsets"]
        compared += 1
    assert compared == 2
    # The ablations really differ from the full agent here, or the comparison would prove little.
    assert any(r["steps_delta_vs_full"]["mean"] for r in bench_runs.values() if r["variant"] != "full")


def test_report_command_writes_page_and_markdown_with_those_numbers(
    ablations: Ablations, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, md = tmp_path / "report.html", tmp_path / "summary.md"
    assert main(["report", *map(str, ablations.runs), "--out", str(out), "--markdown", str(md)]) == 0
    printed = capsys.readouterr()
    markdown = md.read_text(encoding="utf-8")
    assert printed.out == markdown
    assert printed.err.strip() == f"robomem: report written to {out}"
    html = out.read_text(encoding="utf-8")
    for run in ablations.bench["runs"]:
        delta = run["steps_delta_vs_full"]
        if delta is None:
            continue
        shown = fmt_mean(delta["mean"], delta["ci"], 2)
        counts = f"{delta['fewer']}/{delta['same']}/{delta['more']}"
        rows = [[c.strip() for c in line.split("|")[1:-1]] for line in markdown.splitlines()]
        assert [f"alfred_{run['variant']}", "all", "6", shown, counts] in [row[:5] for row in rows]
        assert f"<td>{shown}</td>" in html
    # Self-contained: no outside resource is referenced.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<svg" in html and "report-data" in html
    episodes = _data(html)
    assert [run["label"] for run in episodes] == [p.name for p in ablations.runs]
    assert len(episodes[0]["episodes"]) == 6


def test_episodes_are_listed_worst_first_with_their_steps(ablations: Ablations, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(ablations.runs[0], run)
    # Make one episode a failure with progress and one without: both go before the successes.
    for n, (success, progress) in ((2, (0.0, 0.5)), (3, (0.0, 0.0))):
        path = run / "base" / "results" / f"episode_{n}_final_res.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record.update(task_success=success, task_progress=progress)
        path.write_text(json.dumps(record), encoding="utf-8")
    listed = _data(make_report([run]).html)[0]["episodes"]
    assert [e["id"] for e in listed[:2]] == ["base/3", "base/2"]
    assert all(e["success"] == 1.0 for e in listed[2:])
    steps = json.loads((run / "base" / "steps" / "episode_3_steps.json").read_text(encoding="utf-8"))
    assert listed[0]["step_log"] == steps and steps


def test_trace_is_embedded_and_missing_or_damaged_files_are_tolerated(
    ablations: Ablations, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(ablations.runs[0], run)
    rows = write_trace(run, "base", 1)
    (run / "spatial" / "steps" / "episode_1_steps.json").unlink()
    (run / "spatial" / "steps" / "episode_2_steps.json").write_text("[{", encoding="utf-8")
    (run / "summary.json").write_text("{", encoding="utf-8")
    report = make_report([run])
    episodes = {e["id"]: e for e in _data(report.html)[0]["episodes"]}
    assert episodes["base/1"]["trace"] == rows
    # The run's own traces were gzipped when their episodes were saved: embedded all the same.
    gzipped = read_trace(run / "spatial" / "trace" / "episode_1_trace.jsonl.gz")
    assert gzipped and [r["action"] for r in episodes["spatial/1"]["trace"]] == [r["action"] for r in gzipped]
    assert episodes["spatial/1"]["step_log"] == [] and episodes["spatial/2"]["step_log"] == []
    assert "</script><b>" not in report.html  # a trace cannot end the data element
    assert "episode_1_trace.jsonl: 1 unreadable line(s) skipped" in report.html
    assert "episode_2_steps.json: unreadable" in report.html and "summary.json: unreadable" in report.html
    # LLM usage falls back to the traces when the run has no llm_usage.json.
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in report.markdown.splitlines()]
    assert ["run", "planner", "1", "120", "9"] in cells


def test_llm_usage_per_role_sums_the_parts_of_a_resumed_run(ablations: Ablations, tmp_path: Path) -> None:
    from robomem.llm.accounting import LLMAccounting

    run = tmp_path / "run"
    shutil.copytree(ablations.runs[0], run)
    # The files a resumed run leaves, written by the agent's own accounting.
    first, second = LLMAccounting(), LLMAccounting()
    for _ in range(3):
        first.record("planner", latency_s=0.5, prompt_tokens=100, completion_tokens=10)
    second.record("planner", latency_s=0.25, prompt_tokens=50, completion_tokens=5, fallbacks=1)
    second.record("critic", latency_s=1.0, prompt_tokens=40, completion_tokens=4)
    first.write(run / "llm_usage.part1.json")
    second.write(run / "llm_usage.json")
    usage = build_model([load_run(run)])["runs"][0]["usage"]
    assert usage["planner"] == {
        "calls": 4,
        "prompt_tokens": 350,
        "completion_tokens": 35,
        "fallbacks": 1,
        "deterministic_fallbacks": 0,
        "latency_s": 1.75,
    }
    assert usage["critic"]["calls"] == 1 and usage["critic"]["latency_s"] == 1.0


def test_labels_stay_unique() -> None:
    assert unique_labels([Path("a/run"), Path("b/run"), Path("c/x")]) == ["a/run", "b/run", "x"]
    assert unique_labels([Path("a/run"), Path("a/run")]) == ["a/run (1)", "a/run (2)"]


def test_bad_input_is_one_line_exit_2(
    ablations: Ablations, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["report", str(tmp_path / "nope")], f"'{tmp_path / 'nope'}' is not a run folder"),
        (["report", str(empty)], "holds no episode results"),
        (["report", str(ablations.runs[0]), "--label", "a", "--label", "b"], "2 --label for 1 runs"),
        (
            ["report", str(ablations.runs[0]), "--out", str(empty / "x" / "r.html"), "x=1"],
            "unexpected arguments",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("robomem: error [config]: ") and message in err[0], err
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["report", str(ablations.runs[0]), "--out", str(blocker / "r.html")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("robomem: error [store]: cannot write the report:"), line
