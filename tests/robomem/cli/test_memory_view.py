"""``robomem memory show|view|export`` read the memory without writing a byte to its folder, ``show`` groups
its counts in tables, and ``view`` writes a page holding exactly what ``export`` writes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from robomem.cli.main import main
from robomem.report.page import unpack


@pytest.fixture
def memory(chroma_memory: Path, tmp_path: Path) -> Path:
    shutil.copytree(chroma_memory, tmp_path / "memory")
    return tmp_path / "memory"


def files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file (SQLite's companions included) by content and modification time."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("action", ["show", "view", "export"])
def test_inspecting_never_writes_to_the_memory_folder(
    memory: Path, tmp_path: Path, action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files(memory)
    assert any(name.startswith("chroma/") for name in before) and "spatial.sqlite" in before
    out = ["--out", str(tmp_path / "out" / ("page.html" if action == "view" else "export"))]
    assert main(["memory", action, "--memory-dir", str(memory), *([] if action == "show" else out)]) == 0
    capsys.readouterr()
    assert files(memory) == before


def test_show_prints_counts_grouped_in_tables(memory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = memory.parent / "export"
    assert main(["memory", "show", "--memory-dir", str(memory), "--recent", "1"]) == 0
    assert main(["memory", "export", "--memory-dir", str(memory), "--out", str(export)]) == 0
    shown = capsys.readouterr().out
    docs = [json.loads(f.read_text(encoding="utf-8")) for f in sorted((export / "spatial").glob("*.json"))]
    assert len(docs) >= 2
    lines = shown.splitlines()
    kinds = sorted({n["kind"] for d in docs for n in d["nodes"]})
    relations = sorted({e["relation"] for d in docs for e in d["edges"]})
    assert lines[lines.index("") + 1].split() == ["nodes", "by", "kind", *kinds]
    header = next(i for i, line in enumerate(lines) if line.startswith("edges by relation"))
    assert lines[header].split()[3:] == relations
    for doc in docs:
        counted = f"{len(doc['nodes'])} nodes, {len(doc['edges'])} edges, {len(doc['history'])} in history"
        assert f"spatial [{doc['site']}]: {counted}" in lines
        row = next(line for line in lines[header + 1 :] if line.startswith(doc["site"] + " "))
        counts = [sum(e["relation"] == r for e in doc["edges"]) for r in relations]
        assert [int(x) for x in row.split()[1:]] == counts
    assert "episodic: 4 items, 0 archived" in lines and "raw episode log: 4 episodes" in lines
    assert sum(line.startswith("newest facts in ") for line in lines) == len(docs)


def test_view_page_holds_what_export_writes(
    memory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page, export = tmp_path / "view.html", tmp_path / "export"
    assert main(["memory", "view", "--memory-dir", str(memory), "--out", str(page)]) == 0
    assert main(["memory", "export", "--memory-dir", str(memory), "--out", str(export)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == str(page)
    html = page.read_text(encoding="utf-8")
    data = unpack(html, "memory-data")
    assert data["memory"] == str(memory)
    exported = {
        d["site"]: d for d in (json.loads(f.read_text()) for f in (export / "spatial").glob("*.json"))
    }
    assert {s["site"]: s for s in data["sites"]} == exported
    for store in ("episodic", "semantic"):
        lines = (export / f"{store}.jsonl").read_text(encoding="utf-8").splitlines()
        assert sorted(json.dumps(i, sort_keys=True) for i in data["stores"][store]) == sorted(
            json.dumps(json.loads(line), sort_keys=True) for line in lines
        )
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_view_into_an_unwritable_place_is_one_line(
    memory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["memory", "view", "--memory-dir", str(memory), "--out", str(blocker / "page.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robomem: error [store]: cannot write the page to ") and "\n" not in err, err


def test_view_serves_the_page_on_loopback_until_interrupted(memory: Path, tmp_path: Path) -> None:
    robomem = Path(sys.executable).with_name("robomem")
    before = files(memory)
    proc = subprocess.Popen(
        [str(robomem), "memory", "view", "--memory-dir", str(memory), "--serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the process prints its address, or ends
        match = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)\n", line)
        assert match is not None, (
            line,
            proc.stderr.read() if proc.poll() is not None and proc.stderr else "",
        )
        with urllib.request.urlopen(match.group(1), timeout=30) as response:  # loopback only
            page = response.read().decode("utf-8")
        assert unpack(page, "memory-data")["memory"] == str(memory)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(match.group(1) + "other", timeout=30)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert not list(tmp_path.glob("*.html"))  # served, not written
    assert files(memory) == before


def test_serving_on_a_taken_port_is_one_line(memory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["memory", "view", "--memory-dir", str(memory), "--serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"robomem: error [config]: --port: cannot listen on 127.0.0.1:{port}: "), err


@pytest.mark.slow  # a robomem process
def test_show_into_a_pipe_its_reader_closed_ends_quietly(memory: Path) -> None:
    """`robomem memory show ... | head`: the reader may go away before everything is printed. The command
    then stops without a word on stderr, with the exit status of a process SIGPIPE ended (128 + 13)."""
    robomem = Path(sys.executable).with_name("robomem")
    read_end, write_end = os.pipe()
    os.close(read_end)  # gone before the first byte is written: every write finds the pipe broken
    try:
        done = subprocess.run(
            [str(robomem), "memory", "show", "--memory-dir", str(memory)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (128 + signal.SIGPIPE, "")
