"""The report's Markdown summary, for pasting into an issue or a paper's notes."""

from __future__ import annotations

from typing import Any

from robomem.eval.stats import fmt_mean, fmt_rate, markdown_table

__all__ = ("render_markdown",)


def render_markdown(model: dict[str, Any]) -> str:
    rows = []
    for run in model["runs"]:
        groups = [("all", run["overall"])]
        if len(run["subsets"]) > 1:
            groups += list(run["subsets"].items())
        for name, s in groups:
            rows.append(
                (
                    run["label"],
                    name,
                    s["n"],
                    fmt_rate(s["sr"], s["sr_ci"]),
                    fmt_rate(s["gc"], s["gc_ci"]),
                    fmt_mean(s["mean_steps"], s["steps_ci"]),
                )
            )
    parts = [
        "## robomem report",
        "",
        markdown_table(("run", "subset", "n", "SR % [95% CI]", "GC % [95% CI]", "mean steps [95% CI]"), rows),
    ]
    others = [run for run in model["runs"] if run["vs_reference"]]
    if others:
        diff_rows = []
        for run in others:
            for group, d in run["vs_reference"].items():
                steps, success = d["steps"], d["success"]
                sr = success["mean"]
                diff_rows.append(
                    (
                        run["label"],
                        group,
                        steps["n"],
                        fmt_mean(steps["mean"], steps["ci"], 2),
                        f"{steps['fewer']}/{steps['same']}/{steps['more']}",
                        fmt_mean(
                            None if sr is None else 100 * sr,
                            None if success["ci"] is None else [100 * x for x in success["ci"]],
                        ),
                    )
                )
        parts += [
            "",
            f"Paired per task, each run minus **{model['reference']}** (95% CI):",
            "",
            markdown_table(
                ("run", "subset", "paired", "Δ steps", "fewer/same/more", "Δ SR (pts)"), diff_rows
            ),
        ]
    usage_rows = [
        (
            run["label"],
            role,
            int(u.get("calls", 0)),
            int(u.get("prompt_tokens", 0)),
            int(u.get("completion_tokens", 0)),
        )
        for run in model["runs"]
        for role, u in sorted(run["usage"].items())
    ]
    if usage_rows:
        parts += [
            "",
            "LLM usage per role:",
            "",
            markdown_table(("run", "role", "calls", "prompt tokens", "completion tokens"), usage_rows),
        ]
    return "\n".join(parts) + "\n"
