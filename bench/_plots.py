"""Dependency-free SVG charts for the benchmark reports (matplotlib is not a dependency): a line plot, grouped
bars with whiskers, and a stack of charts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

__all__ = ("svg_bar_chart", "svg_line_plot", "svg_stack")

# ---- a tiny SVG line plot (matplotlib is not a dependency) ----------------------------------------------
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-2):
        return f"{value:.0e}".replace("e+0", "e").replace("e+", "e")
    return f"{value:g}"


def svg_line_plot(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    hlines: dict[str, float] | None = None,
    width: int = 640,
    height: int = 400,
) -> str:
    """An SVG document plotting each named series of ``(x, y)`` points as a line with markers, plus
    labelled dashed horizontal reference lines (targets). ``log_x`` uses a base-10 x axis."""
    hlines = hlines or {}
    points = [p for pts in series.values() for p in pts]
    xs = [math.log10(x) if log_x else x for x, _ in points if not log_x or x > 0]
    ys = [y for _, y in points] + list(hlines.values())
    if not xs or not ys:
        xs, ys = [0.0, 1.0], [0.0, 1.0]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    wanted = max(ys) * 1.1 if max(ys) > 0 else 1.0
    y_ticks = _nice_ticks(min(0.0, min(ys)), wanted)
    if len(y_ticks) > 1 and y_ticks[-1] < wanted:  # the ticks stop at the last step below the top
        y_ticks.append(y_ticks[-1] + (y_ticks[1] - y_ticks[0]))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    left, right, top, bottom = 70, 20, 56, 55
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        value = math.log10(x) if log_x else x
        return left + (value - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    if log_x:
        x_ticks = [10.0**e for e in range(math.floor(x_lo), math.ceil(x_hi) + 1)]
    else:
        x_ticks = _nice_ticks(x_lo, x_hi)
    for tick in x_ticks:
        x = px(tick)
        if left - 1 <= x <= left + plot_w + 1:
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#f0f0f0"/>')
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{_fmt(tick)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">{escape(y_label)}</text>'
    )
    for i, (label, value) in enumerate(hlines.items()):
        y = py(value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#888" '
            'stroke-dasharray="6 4"/>'
        )
        # Alternate ends (right above the line, left below it) so nearby reference lines stay readable.
        x, anchor, dy = (left + plot_w - 4, "end", -4) if i % 2 == 0 else (left + 4, "start", 13)
        out.append(
            f'<text x="{x}" y="{y + dy:.1f}" text-anchor="{anchor}" fill="#555">{escape(label)}</text>'
        )
    for i, (label, pts) in enumerate(series.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        coords = [(px(x), py(y)) for x, y in pts if not log_x or x > 0]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in coords]
        # The legend sits in a row between the title and the plot, clear of the data.
        out.append(
            f'<rect x="{left + 170 * i}" y="{top - 20}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{left + 170 * i + 16}" y="{top - 14}" fill="{colour}">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_bar_chart(
    groups: Sequence[str],
    series: dict[str, Sequence[tuple[float, Sequence[float] | None]]],
    *,
    title: str,
    y_label: str,
    y_max: float | None = None,
    width: int = 760,
    height: int = 340,
) -> str:
    """An SVG document of grouped bars: one group per entry of ``groups`` (``\\n`` breaks a label), one bar
    per series in each, each value ``(height, (low, high) or None)`` with the interval drawn as a whisker."""
    values = [v for vals in series.values() for v in vals]
    top_value = max([v for v, _ in values] + [ci[1] for _, ci in values if ci is not None] + [0.0])
    wanted = y_max if y_max is not None else (top_value * 1.1 or 1.0)
    y_ticks = _nice_ticks(0.0, wanted)
    if len(y_ticks) > 1 and y_ticks[-1] < wanted:  # the ticks stop at the last step below the top
        y_ticks.append(y_ticks[-1] + (y_ticks[1] - y_ticks[0]))
    y_hi = y_ticks[-1]
    left, right, top, bottom = 60, 20, 48, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(groups))
    bar_w = slot * 0.7 / max(1, len(series))

    def py(y: float) -> float:
        return top + plot_h - max(0.0, min(y, y_hi)) / y_hi * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for tick in y_ticks:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    for g, label in enumerate(groups):
        x0 = left + slot * g + slot * 0.15
        for s, vals in enumerate(series.values()):
            value, ci = vals[g]
            x = x0 + bar_w * s
            colour = _COLOURS[s % len(_COLOURS)]
            out.append(
                f'<rect x="{x:.1f}" y="{py(value):.1f}" width="{bar_w * 0.92:.1f}" '
                f'height="{py(0.0) - py(value):.1f}" fill="{colour}" fill-opacity="0.8"/>'
            )
            if ci is not None:
                mid = x + bar_w * 0.46
                lo, hi = py(ci[0]), py(ci[1])
                out.append(f'<line x1="{mid:.1f}" y1="{lo:.1f}" x2="{mid:.1f}" y2="{hi:.1f}" stroke="#222"/>')
                out += [
                    f'<line x1="{mid - 4:.1f}" y1="{y:.1f}" x2="{mid + 4:.1f}" y2="{y:.1f}" stroke="#222"/>'
                    for y in (lo, hi)
                ]
        centre = left + slot * (g + 0.5)
        for i, part in enumerate(label.split("\n")):
            out.append(
                f'<text x="{centre:.1f}" y="{top + plot_h + 15 + 13 * i}" text-anchor="middle">'
                f"{escape(part)}</text>"
            )
    out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2})">{escape(y_label)}</text>'
    )
    for s, name in enumerate(series):
        x = left + 8 + 110 * s
        out.append(
            f'<rect x="{x}" y="{top - 16}" width="10" height="10" fill="{_COLOURS[s % len(_COLOURS)]}"/>'
        )
        out.append(f'<text x="{x + 14}" y="{top - 7}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def svg_stack(charts: Sequence[tuple[str, int, int]]) -> str:
    """One SVG document showing ``(svg, width, height)`` charts one below the other."""
    width = max((w for _, w, _ in charts), default=0)
    height = sum(h for _, _, h in charts)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    ]
    y = 0
    for doc, _, h in charts:
        out.append(f'<g transform="translate(0 {y})">')
        out.append(doc.strip())
        out.append("</g>")
        y += h
    out.append("</svg>")
    return "\n".join(out) + "\n"
