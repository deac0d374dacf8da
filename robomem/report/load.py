"""Read a run folder for the report: results, step logs, traces and LLM usage, tolerating what is missing.

A run folder (``robomem eval``'s ``run.dir``) holds ``summary.json`` and, per subset,
``results/episode_N_final_res.json``, ``steps/episode_N_steps.json`` and (newer runs)
``trace/episode_N_trace.jsonl`` (``.jsonl.gz`` once the episode was saved); ``llm_usage.json`` (plus
``llm_usage.partN.json`` after a resume) when the agent used an LLM. Only the result files are required; any
other file may be absent or damaged (a crash, an older robomem) and the report shows what it could read and
says what it could not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from robomem.errors import ConfigError
from robomem.eval.results import EpisodeRecord
from robomem.trace import read_trace, trace_path

__all__ = ("Episode", "RunData", "load_run")

_RESULT = re.compile(r"episode_(\d+)_final_res\.json$")
#: Longest text kept per trace field: a page of 300 episodes stays a few MB.
MAX_TEXT = 4000


@dataclass
class Episode:
    subset: str
    n: int
    record: EpisodeRecord
    steps: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunData:
    path: Path
    label: str
    episodes: list[Episode]
    summary: dict[str, Any] | None
    usage: dict[str, dict[str, float]]
    problems: list[str]

    @property
    def records(self) -> list[EpisodeRecord]:
        return [e.record for e in self.episodes]

    @property
    def subsets(self) -> list[str]:
        return list(dict.fromkeys(e.subset for e in self.episodes))


def load_run(path: Path, label: str | None = None) -> RunData:
    """Every finished episode of the run in ``path`` (subsets in ``summary.json``'s order when it exists,
    else alphabetical), with its steps and trace."""
    if not path.is_dir():
        raise ConfigError(f"{str(path)!r} is not a run folder")
    problems: list[str] = []
    summary = _json(path / "summary.json", problems)
    subsets = [d.name for d in sorted(path.iterdir()) if (d / "results").is_dir()]
    if isinstance(summary, dict) and isinstance(summary.get("subsets"), dict):
        order = [s for s in summary["subsets"] if s in subsets]
        subsets = order + [s for s in subsets if s not in order]
    episodes: list[Episode] = []
    for subset in subsets:
        numbered = []
        for file in (path / subset / "results").iterdir():
            match = _RESULT.search(file.name)
            if match:
                numbered.append((int(match.group(1)), file))
        for n, file in sorted(numbered):
            try:
                record = EpisodeRecord.model_validate_json(file.read_text(encoding="utf-8"))
            except (OSError, ValidationError) as err:
                problems.append(f"{file}: unreadable result ({type(err).__name__})")
                continue
            steps = _json(path / subset / "steps" / f"episode_{n}_steps.json", problems)
            episodes.append(
                Episode(
                    subset,
                    n,
                    record,
                    steps=[_clip(s) for s in steps if isinstance(s, dict)] if isinstance(steps, list) else [],
                    trace=[_clip(r) for r in read_trace(trace_path(path, f"{subset}/{n}"), problems)],
                )
            )
    if not episodes:
        raise ConfigError(
            f"{str(path)!r} holds no episode results (<subset>/results/episode_N_final_res.json)"
        )
    return RunData(
        path=path,
        label=label or path.name,
        episodes=episodes,
        summary=summary if isinstance(summary, dict) else None,
        usage=_usage(path, problems),
        problems=problems,
    )


def _json(file: Path, problems: list[str]) -> Any:
    if not file.exists():
        return None
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        problems.append(f"{file}: unreadable ({type(err).__name__})")
        return None


def _clip(value: Any) -> Any:
    """Long texts cut to :data:`MAX_TEXT` characters, recursively."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"... [{len(value) - MAX_TEXT} more]"
    if isinstance(value, dict):
        return {str(k): _clip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v) for v in value]
    return value


_USAGE_KEYS = ("calls", "prompt_tokens", "completion_tokens", "fallbacks", "deterministic_fallbacks")


def _usage(path: Path, problems: list[str]) -> dict[str, dict[str, float]]:
    """Per-role LLM usage summed over ``llm_usage.json`` and the parts a resumed run kept, with the total
    latency; falls back to the traces' ``llm`` entries when no usage file exists."""
    roles: dict[str, dict[str, float]] = {}
    files = sorted(path.glob("llm_usage.part*.json")) + [path / "llm_usage.json"]
    for file in files:
        doc = _json(file, problems)
        if not isinstance(doc, dict) or not isinstance(doc.get("roles"), dict):
            continue
        for role, stats in doc["roles"].items():
            if not isinstance(stats, dict):
                continue
            into = roles.setdefault(str(role), dict.fromkeys((*_USAGE_KEYS, "latency_s"), 0.0))
            for key in _USAGE_KEYS:
                into[key] += _number(stats.get(key))
            latency = stats.get("latency_s")
            into["latency_s"] += _number(latency.get("sum")) if isinstance(latency, dict) else 0.0
    return roles


def usage_from_traces(episodes: list[Episode]) -> dict[str, dict[str, float]]:
    roles: dict[str, dict[str, float]] = {}
    for episode in episodes:
        for row in episode.trace:
            calls = row.get("llm")
            if not isinstance(calls, list):
                continue
            for call in calls:
                if not isinstance(call, dict):
                    continue
                into = roles.setdefault(
                    str(call.get("role", "?")), {"calls": 0.0, "prompt_tokens": 0.0, "completion_tokens": 0.0}
                )
                into["calls"] += 1
                into["prompt_tokens"] += _number(call.get("prompt_tokens"))
                into["completion_tokens"] += _number(call.get("completion_tokens"))
    return roles


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
