"""Small dependency-free SVG charts for the report: grouped bars with 95% interval whiskers, and a forest
plot of paired differences around zero. Plain SVG text (no script), so the page needs nothing from outside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ("COLOURS", "bar_chart", "forest_plot")

#: Colour-blind-safe (Okabe-Ito) series colours.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000")

Bar = tuple[float | None, Sequence[float] | None]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    span = high - low if high > low else 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.2g}"


def bar_chart(
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[Bar]],
    *,
    unit: str = "",
    top: float | None = None,
    width: int = 640,
    height: int = 260,
) -> str:
    """Bars ``series[name][i]`` = ``(value, (low, high))`` for each group ``groups[i]``; a missing value
    draws no bar. ``top`` fixes the axis maximum (100 for percentages)."""
    left, right, head, foot = 48, 10, 28, 58
    values = [
        x
        for bars in series.values()
        for value, ci in bars
        for x in ([value] if value is not None else []) + (list(ci) if ci else [])
    ]
    high = top if top is not None else max([*values, 1.0])
    low = min([*values, 0.0])
    ticks = _ticks(low, high)
    high, low = max(high, ticks[-1]), min(low, ticks[0])
    plot_w, plot_h = width - left - right, height - head - foot

    def y(v: float) -> float:
        return head + plot_h * (high - v) / (high - low)

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="16" class="title">{escape(title)}</text>',
    ]
    for t in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(t):.1f}" y2="{y(t):.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y(t) + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)}{unit}</text>'
        )
    n_series = max(len(series), 1)
    group_w = plot_w / max(len(groups), 1)
    bar_w = min(28.0, group_w * 0.8 / n_series)
    for g, group in enumerate(groups):
        x0 = left + g * group_w + (group_w - bar_w * n_series) / 2
        for s, (name, bars) in enumerate(series.items()):
            value, ci = bars[g] if g < len(bars) else (None, None)
            if value is None:
                continue
            x = x0 + s * bar_w
            top_y, base_y = sorted((y(value), y(max(low, 0.0))))
            tip = f"{name} · {group}: {_fmt(value)}{unit}"
            if ci:
                tip += f" [{_fmt(ci[0])}, {_fmt(ci[1])}]"
            parts.append(
                f'<rect class="bar" x="{x + 1:.1f}" y="{top_y:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(base_y - top_y, 0.5):.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if ci:
                cx = x + bar_w / 2
                parts.append(
                    f'<path class="ci" d="M{cx:.1f},{y(ci[0]):.1f}V{y(ci[1]):.1f}'
                    f'M{cx - 4:.1f},{y(ci[0]):.1f}h8M{cx - 4:.1f},{y(ci[1]):.1f}h8"/>'
                )
        label_x = left + (g + 0.5) * group_w
        parts.append(
            f'<text x="{label_x:.1f}" y="{height - foot + 14}" class="tick" text-anchor="middle">'
            f"{escape(group)}</text>"
        )
    for s, name in enumerate(series):
        lx = left + s * 150
        parts.append(
            f'<rect x="{lx}" y="{height - 22}" width="10" height="10" fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{lx + 14}" y="{height - 13}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def forest_plot(
    title: str, rows: Sequence[tuple[str, float | None, Sequence[float] | None]], *, width: int = 640
) -> str:
    """One row per ``(label, mean, (low, high))``: a dot and its interval against a zero line."""
    left, right, head, row_h = 220, 20, 30, 24
    height = head + row_h * max(len(rows), 1) + 26
    values = [x for _, mean, ci in rows for x in ([mean] if mean is not None else []) + list(ci or [])]
    extent = max([abs(v) for v in values] + [1.0])
    ticks = _ticks(-extent, extent, 6)
    low, high = ticks[0], ticks[-1]
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - low) / (high - low)

    parts = [
        f'<svg class="chart forest" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="8" y="16" class="title">{escape(title)}</text>',
    ]
    bottom = head + row_h * max(len(rows), 1)
    for t in ticks:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{head}" y2="{bottom}" '
            f'class="{"zero" if t == 0 else "grid"}"/>'
            f'<text x="{x(t):.1f}" y="{bottom + 16}" class="tick" text-anchor="middle">{_fmt(t)}</text>'
        )
    for i, (label, mean, ci) in enumerate(rows):
        cy = head + row_h * (i + 0.5)
        parts.append(
            f'<text x="{left - 8}" y="{cy + 4:.1f}" class="tick" text-anchor="end">{escape(label)}</text>'
        )
        if mean is None:
            continue
        if ci:
            parts.append(f'<path class="ci" d="M{x(ci[0]):.1f},{cy:.1f}H{x(ci[1]):.1f}"/>')
        tip = f"{label}: {_fmt(mean)}" + (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "")
        parts.append(
            f'<circle class="dot" cx="{x(mean):.1f}" cy="{cy:.1f}" r="5">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
