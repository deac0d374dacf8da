"""The run report as one HTML file: tables and SVG charts drawn here, the episode browser by the page's
script from the episodes embedded as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from robomem.eval.stats import fmt_mean, fmt_rate
from robomem.report.charts import bar_chart, forest_plot
from robomem.report.page import html_page, packed_script

__all__ = ("render_html",)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _outcome_row(label: str, s: dict[str, Any]) -> list[object]:
    return [
        label,
        s["n"],
        fmt_rate(s["sr"], s["sr_ci"]),
        fmt_rate(s["gc"], s["gc_ci"]),
        fmt_mean(s["mean_steps"], s["steps_ci"]),
        s["errors"],
    ]


def _summary(model: dict[str, Any]) -> str:
    rows = []
    for run in model["runs"]:
        rows.append(_outcome_row(f"{run['label']} · all", run["overall"]))
        if len(run["subsets"]) > 1:
            rows += [_outcome_row(f"{run['label']} · {s}", stats) for s, stats in run["subsets"].items()]
    header = ("run · subset", "n", "SR % [95% CI]", "GC % [95% CI]", "mean steps [95% CI]", "env errors")
    return "<h2>Summary</h2>" + _table(header, rows, "summary")


def _charts(model: dict[str, Any]) -> str:
    groups = model["subsets"] + (["all"] if len(model["subsets"]) > 1 else [])

    def series(key: str, ci_key: str, scale: float) -> dict[str, list[tuple[float | None, Any]]]:
        out = {}
        for run in model["runs"]:
            bars: list[tuple[float | None, Any]] = []
            for g in groups:
                s = run["overall"] if g == "all" else run["subsets"].get(g)
                if s is None or s[key] is None:
                    bars.append((None, None))
                    continue
                ci = s[ci_key]
                bars.append((scale * s[key], None if ci is None else [scale * ci[0], scale * ci[1]]))
            out[run["label"]] = bars
        return out

    width = max(640, 90 * len(groups) * max(1, len(model["runs"])) // 2)
    return (
        '<h2>Per subset</h2><div class="charts">'
        + bar_chart("Success rate (%), 95% CI", groups, series("sr", "sr_ci", 100), top=100, width=width)
        + bar_chart("Goal conditions (%), 95% CI", groups, series("gc", "gc_ci", 100), top=100, width=width)
        + bar_chart("Mean steps, 95% CI", groups, series("mean_steps", "steps_ci", 1), width=width)
        + "</div>"
    )


def _comparison(model: dict[str, Any]) -> str:
    others = [run for run in model["runs"] if run["vs_reference"]]
    if not others:
        return ""
    ref = escape(model["reference"])
    rows = []
    steps_plot: list[tuple[str, float | None, Any]] = []
    sr_plot: list[tuple[str, float | None, Any]] = []
    for run in others:
        for group, d in run["vs_reference"].items():
            steps, success, progress = d["steps"], d["success"], d["progress"]
            rows.append(
                [
                    run["label"],
                    group,
                    steps["n"],
                    fmt_mean(steps["mean"], steps["ci"], 2),
                    f"{steps['fewer']} / {steps['same']} / {steps['more']}",
                    _pct_delta(success),
                    _pct_delta(progress),
                ]
            )
            if group == "all":
                steps_plot.append((run["label"], steps["mean"], steps["ci"]))
                sr_plot.append((run["label"], _scaled(success["mean"]), _scaled_ci(success["ci"])))
    header = (
        "run",
        "subset",
        "paired tasks",
        "Δ steps [95% CI]",
        "fewer / same / more steps",
        "Δ SR (pts) [95% CI]",
        "Δ GC (pts) [95% CI]",
    )
    return (
        f"<h2>Compared with {ref}</h2>"
        f'<p class="note">Paired per task (same subset and task id), each run minus <b>{ref}</b>; '
        "95% normal-approximation intervals of the mean difference (the statistics of "
        "<code>bench.competence</code>).</p>"
        + _table(header, rows, "comparison")
        + '<div class="charts">'
        + forest_plot(f"Δ steps vs {model['reference']} (all subsets), 95% CI", steps_plot)
        + forest_plot(f"Δ SR points vs {model['reference']} (all subsets), 95% CI", sr_plot)
        + "</div>"
    )


def _scaled(value: float | None) -> float | None:
    return None if value is None else 100 * value


def _scaled_ci(ci: Sequence[float] | None) -> list[float] | None:
    return None if ci is None else [100 * ci[0], 100 * ci[1]]


def _pct_delta(d: dict[str, Any]) -> str:
    return fmt_mean(_scaled(d["mean"]), _scaled_ci(d["ci"]), 1)


def _usage(model: dict[str, Any]) -> str:
    rows = []
    for run in model["runs"]:
        for role, u in sorted(run["usage"].items()):
            latency = u.get("latency_s")
            rows.append(
                [
                    run["label"],
                    role,
                    int(u.get("calls", 0)),
                    int(u.get("prompt_tokens", 0)),
                    int(u.get("completion_tokens", 0)),
                    "-" if latency is None else f"{latency:.1f}",
                    int(u.get("fallbacks", 0) + u.get("deterministic_fallbacks", 0)),
                ]
            )
    if not rows:
        return '<h2>LLM usage</h2><p class="note">No LLM calls recorded (a deterministic agent).</p>'
    header = ("run", "role", "calls", "prompt tokens", "completion tokens", "latency s (sum)", "fallbacks")
    roles = sorted({row[1] for row in rows})
    series = {
        run["label"]: [(run["usage"].get(r, {}).get("prompt_tokens", 0.0) or None, None) for r in roles]
        for run in model["runs"]
    }
    chart = bar_chart(
        "Prompt tokens per role", [str(r) for r in roles], series, width=max(640, 80 * len(roles))
    )
    return "<h2>LLM usage per role</h2>" + _table(header, rows, "usage") + chart


def _episodes(model: dict[str, Any]) -> str:
    options = "".join(
        f'<option value="{i}">{escape(run["label"])}</option>' for i, run in enumerate(model["runs"])
    )
    return (
        "<h2>Episodes, worst first</h2>"
        '<div class="controls"><label>run <select id="run-select">'
        f"{options}</select></label> "
        '<input id="episode-filter" type="search" placeholder="filter by task, subset or instruction"></div>'
        '<div class="episodes"><div class="episode-list"><table id="episodes"><thead><tr>'
        "<th>episode</th><th>task</th><th>success</th><th>GC</th><th>steps</th><th>instruction</th>"
        '</tr></thead><tbody></tbody></table></div><div id="steps" class="steps">'
        '<p class="note">Click an episode to see its steps.</p></div></div>'
    )


def _problems(model: dict[str, Any]) -> str:
    items = [f"{run['label']}: {p}" for run in model["runs"] for p in run["problems"]]
    if not items:
        return ""
    return (
        '<h2>Unreadable files</h2><ul class="problems">'
        + "".join(f"<li>{escape(i)}</li>" for i in items)
        + "</ul>"
    )


def render_html(model: dict[str, Any]) -> str:
    labels = ", ".join(run["label"] for run in model["runs"])
    runs = "".join(
        f"<li><b>{escape(r['label'])}</b>: <code>{escape(r['path'])}</code> "
        f"({len(r['episodes'])} episodes, {r['traced']} with a trace)</li>"
        for r in model["runs"]
    )
    body = (
        f'<header><h1>robomem report</h1><ul class="runs">{runs}</ul></header><main>'
        + _summary(model)
        + _charts(model)
        + _comparison(model)
        + _usage(model)
        + _episodes(model)
        + _problems(model)
        + "</main>"
    )
    episodes = [{"label": run["label"], "episodes": run["episodes"]} for run in model["runs"]]
    return html_page(
        f"robomem report: {labels}",
        body,
        css="report.css",
        js="report.js",
        data=packed_script("report-data", episodes),
    )
