"""Build the report of one or more run folders: the HTML page and the Markdown summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from robomem.report.html import render_html
from robomem.report.load import load_run
from robomem.report.markdown import render_markdown
from robomem.report.model import build_model
from robomem.storage import write_text_atomic

__all__ = ("Report", "make_report", "unique_labels", "write_report")


@dataclass(frozen=True)
class Report:
    html: str
    markdown: str


def unique_labels(paths: Sequence[Path]) -> list[str]:
    """Each run's folder name; folders of the same name get their parent's name too, then a number."""
    names = [p.name or str(p) for p in paths]
    labels = [f"{p.parent.name}/{n}" if names.count(n) > 1 else n for p, n in zip(paths, names, strict=True)]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(f"{label} ({seen[label]})" if labels.count(label) > 1 else label)
    return unique


def make_report(paths: Sequence[Path], labels: Sequence[str] | None = None) -> Report:
    """The first run is the reference the others are compared with."""
    names = list(labels) if labels else unique_labels(paths)
    runs = [load_run(path, label) for path, label in zip(paths, names, strict=True)]
    model = build_model(runs)
    return Report(render_html(model), render_markdown(model))


def write_report(
    paths: Sequence[Path], out: Path, *, markdown: Path | None = None, labels: Sequence[str] | None = None
) -> Report:
    report = make_report(paths, labels)
    write_text_atomic(out, report.html)
    if markdown is not None:
        write_text_atomic(markdown, report.markdown)
    return report
