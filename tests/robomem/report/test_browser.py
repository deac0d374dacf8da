"""The report and the memory viewer in a real headless Chromium: no console errors, no request leaves the
file, charts and the graph render with the expected number of elements, and clicking shows the details.

``ROBOMEM_SCREENSHOTS=docs/img pytest -m browser`` also refreshes the README's screenshots."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from robomem.cli.main import main
from robomem.trace import read_trace
from tests.robomem.report.conftest import Ablations, write_trace

pytestmark = pytest.mark.browser


class Page:
    """A page with every console message, page error and request recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.console: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        # The page unpacks its data asynchronously, then marks itself ready.
        self.page.wait_for_selector("body[data-ready='1']", state="attached")

    def check_clean(self) -> None:
        assert self.console == []
        assert self.requests == [self.url]

    def screenshot(self, tmp_path: Path, name: str) -> None:
        path = tmp_path / name
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        target = os.environ.get("ROBOMEM_SCREENSHOTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(target) / name)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    pages: list[Page] = []

    def opener(path: Path) -> Page:
        pages.append(Page(browser, path))
        return pages[-1]

    yield opener
    for page in pages:
        page.page.close()


def test_report_renders_charts_and_opens_an_episodes_steps(
    ablations: Ablations, open_page: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [tmp_path / p.name for p in ablations.runs]
    for source, run in zip(ablations.runs, runs, strict=True):
        shutil.copytree(source, run)
    trace = write_trace(runs[0], "base", 1)
    out = tmp_path / "report.html"
    assert main(["report", *map(str, runs), "--out", str(out)]) == 0
    capsys.readouterr()
    page = open_page(out)
    p = page.page
    charts = p.locator("svg.chart")
    # SR, GC and steps: a bar per run and group (base, spatial, all); then two forest plots, one dot per
    # ablation; then the prompt tokens chart (one role, only the traced run used it).
    for i in range(3):
        assert charts.nth(i).locator("rect.bar").count() == 3 * 3
    for i in (3, 4):
        assert charts.nth(i).locator("circle.dot").count() == 2
    assert charts.nth(5).locator("rect.bar").count() == 1
    rows = p.locator("#episodes tr.episode")
    assert rows.count() == 6
    p.locator('#episodes tr.episode[data-episode="base/1"]').click()
    steps = json.loads((runs[0] / "base" / "steps" / "episode_1_steps.json").read_text(encoding="utf-8"))
    assert p.locator("#steps .step").count() == len(steps) + 1 > 1  # the closing iteration has its card
    panel = p.locator("#steps").inner_text()
    assert trace[2]["stop_reason"] in p.locator("#steps .step").nth(2).inner_text()
    assert steps[1]["feedback"] in p.locator("#steps .step").nth(1).inner_text()
    assert trace[0]["critic"]["reason"] in panel and trace[0]["summary"] in panel  # markup shown as text
    assert p.locator("#steps b").count() == 0
    assert steps[-1]["action"] in panel
    # Another run's episodes, and the filter.
    p.select_option("#run-select", "2")
    p.locator('#episodes tr.episode[data-episode="spatial/2"]').click()
    steps = json.loads((runs[2] / "spatial" / "steps" / "episode_2_steps.json").read_text(encoding="utf-8"))
    # The agent traced this episode too: a card per step, and one for its closing iteration.
    # Saved, so gzipped (.jsonl.gz): the report reads it as a plain one.
    trace_file = runs[2] / "spatial" / "trace" / "episode_2_trace.jsonl.gz"
    traced = read_trace(trace_file)
    assert trace_file.is_file() and len(traced) == len(steps) + 1 and traced[-1]["final"]
    assert p.locator("#steps .step").count() == len(traced)
    p.fill("#episode-filter", "spatial")
    assert rows.count() == 3
    page.check_clean()
    p.fill("#episode-filter", "")
    p.select_option("#run-select", "0")
    p.locator('#episodes tr.episode[data-episode="base/1"]').click()
    page.screenshot(tmp_path, "report.png")


def test_memory_viewer_draws_each_sites_graph_and_finds_items(
    chroma_memory: Path, open_page: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, export = tmp_path / "memory.html", tmp_path / "export"
    assert main(["memory", "view", "--memory-dir", str(chroma_memory), "--out", str(out)]) == 0
    assert main(["memory", "export", "--memory-dir", str(chroma_memory), "--out", str(export)]) == 0
    capsys.readouterr()
    sites = {
        doc["site"]: doc
        for doc in (json.loads(f.read_text(encoding="utf-8")) for f in (export / "spatial").glob("*.json"))
    }
    assert len(sites) >= 2
    page = open_page(out)
    p = page.page
    options = p.locator("#site-select option")
    assert options.count() == len(sites)
    history_seen = 0
    for i in range(options.count()):
        p.select_option("#site-select", str(i))
        doc = sites[p.locator("#site-select option:checked").inner_text().split(" (")[0]]
        assert p.locator("#graph g.node").count() == len(doc["nodes"]) > 0
        assert p.locator("#graph g.edge").count() == len(doc["edges"]) > 0
        names = {n["name"] for n in doc["nodes"]}
        superseded = [
            h for h in doc["history"] if h["kind"] == "edge" and {h["subject"], h["object"]} <= names
        ]
        assert p.locator("#graph line.superseded").count() == len(superseded)
        history_seen += len(superseded)
        # The graph is laid out: the nodes are not all in one place.
        xs = {p.locator("#graph g.node").nth(k).get_attribute("transform") for k in range(len(doc["nodes"]))}
        assert len(xs) == len(doc["nodes"])
    assert history_seen > 0
    p.select_option("#site-select", "0")
    doc = sites[p.locator("#site-select option:checked").inner_text().split(" (")[0]]
    place = next(n["name"] for n in doc["nodes"] if n["kind"] == "place")
    p.locator(f'#graph g.node[data-name="{place}"] circle').click()
    details = p.locator("#details").inner_text()
    assert details.startswith(place) and "current facts" in details
    facts = [e for e in doc["edges"] if place in (e["subject"], e["object"])]
    assert f"current facts ({len(facts)})" in details
    p.check("#show-history")
    assert p.locator("#graph g.history-layer.hidden").count() == 0
    # Long-term items: all listed, then found by a word.
    episodic = [
        json.loads(line) for line in (export / "episodic.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    items = p.locator("#items tr.item")
    assert items.count() == len(episodic) > 0
    p.fill("#item-search", "zzz-not-there")
    assert items.count() == 0
    word = episodic[0]["text"].split("Task: ")[1].split()[1]
    p.fill("#item-search", word)
    expected = sum(word.lower() in (i["text"] + json.dumps(i["metadata"])).lower() for i in episodic)
    assert items.count() == expected > 0
    p.select_option("#store-select", "semantic")
    p.fill("#item-search", "")
    assert items.count() == len((export / "semantic.jsonl").read_text(encoding="utf-8").splitlines())
    page.check_clean()
    p.select_option("#store-select", "episodic")
    page.screenshot(tmp_path, "memory_view.png")
