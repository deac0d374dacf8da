"""Typed configuration: defaults live in the models, a YAML preset only overrides them, then dotted
command-line overrides (``env.max_steps=20``) override the preset. The result is frozen.

A preset may build on another with a top-level ``extends: other.yaml`` (a path relative to the preset's own
folder; the base may extend in turn): the preset's mappings are merged into the base's key by key, any other
value replaces the base's. A mapping whose ``type`` differs from the base's (an ``eb_bridge`` env over a
``household`` one) replaces the base's mapping whole: another plug-in has other fields.

The ``env`` and ``agent`` sections are plug-ins: their ``type`` selects a registry entry whose config class
(registered next to the plug-in's code) validates the section, through the one validator of plug-in sections
(:meth:`robomem.registry.Registry.config`). Every bad input becomes one
:class:`robomem.errors.ConfigError` whose one-line message starts with the dotted key at fault.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
)

from envs.household.config import HouseholdConfig
from envs.registry import ENVS
from robomem.agents import AGENTS, RoboMemoryAgentConfig
from robomem.errors import ConfigError
from robomem.registry import validation_error

__all__ = (
    "Config",
    "EvalConfig",
    "RunConfig",
    "apply_overrides",
    "config_error",
    "dump_config",
    "load_config",
    "resolve_run_dir",
)

#: Top-level sections; a section left empty in YAML (``env:``) means "all defaults".
_SECTIONS = ("env", "agent", "eval", "run")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvalConfig(_Frozen):
    #: Subsets to evaluate; ``None`` means all. In lifelong mode they select among the subset labels of
    #: the sequences' tasks, and other tasks are dropped from each sequence (the world still persists).
    subsets: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    #: Episodes per subset (lifelong mode: sequences), taken from the start; ``None`` means all.
    episodes: int | None = Field(default=None, ge=1)
    #: Base seed of the run, mixed into the seed of every lifelong perturbation.
    seed: int = 0
    mode: Literal["episodic", "lifelong"] = "episodic"
    #: Lifelong mode: attempts of each sequence in a row, without restoring the house in between.
    lifelong_repeats: int = Field(default=1, ge=1)
    #: Episodes run at once (``--workers``); each worker has its own env, agent and memory folder (see
    #: robomem/eval/parallel.py). 1: one after another in this process.
    workers: int = Field(default=1, ge=1)
    #: Where the workers run: ``processes`` on this machine, ``threads`` in this process (cheaper for
    #: LLM-bound runs), ``dask`` on a Dask cluster (the ``dask`` extra; ``scheduler`` below).
    executor: Literal["processes", "threads", "dask"] = "processes"
    #: The Dask scheduler's address (``tcp://host:8786``); ``None`` starts a LocalCluster on 127.0.0.1.
    scheduler: str | None = None

    @field_validator("subsets", mode="before")
    @classmethod
    def _one_subset(cls, value: object) -> object:
        # `--subset base` and `eval.subsets=base` both mean a one-element list.
        return (value,) if isinstance(value, str) else value

    @field_validator("subsets")
    @classmethod
    def _distinct(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("subsets must be distinct")
        return value


class RunConfig(_Frozen):
    # A run named `2024` on the command line parses as an int; it is still meant as a name.
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    #: Output folder; ``None`` means ``runs/<UTC timestamp>_<name>`` under the working directory.
    dir: str | None = None
    #: Defaults to the preset's file name (``eb_alfred``), or ``default`` without a preset.
    name: str = Field(default="default", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    #: The run's id in memory (robomem/run_id.py); ``None``: the folder's name plus a random suffix. Give one
    #: only if it is unique among every run that shares the memory: episodes already held under it are
    #: skipped as replays.
    id: str | None = Field(default=None, pattern=r"^[^/\s]([^/]*[^/\s])?$")


class Config(_Frozen):
    env: SerializeAsAny[BaseModel] = Field(default_factory=HouseholdConfig)
    #: Without a preset, ``robomem eval`` runs the agent this project is about (as configs/demo.yaml does).
    agent: SerializeAsAny[BaseModel] = Field(default_factory=RoboMemoryAgentConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    run: RunConfig = Field(default_factory=RunConfig)

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: object) -> BaseModel:
        return ENVS.config(value, section="env", default="household")

    @field_validator("agent", mode="before")
    @classmethod
    def _agent(cls, value: object) -> BaseModel:
        return AGENTS.config(value, section="agent", default="robomem")


#: The one validator of plug-in sections, under the name the CLI uses for other sections.
config_error = validation_error


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> Config:
    """Load defaults < preset at ``path`` (optional) < ``overrides`` (``dotted.key=value``, each value
    parsed as YAML, so ``20`` is an int and ``[base, spatial]`` a list)."""
    raw: dict[str, Any] = {}
    name = "default"
    if path is not None:
        raw = _resolve_preset(Path(path), ())
        name = Path(path).stem
    for item in overrides:
        key, value = _parse_override(item)
        _set_dotted(raw, key, value)
    raw = {key: value for key, value in raw.items() if not (key in _SECTIONS and value is None)}
    run = raw.setdefault("run", {})
    if isinstance(run, dict):
        run.setdefault("name", name)
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise config_error(err) from None


def _read_preset(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ConfigError(f"cannot read config file {str(path)!r}: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML ({_yaml_reason(err)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
    return data


def _resolve_preset(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The preset at ``path`` with its ``extends`` chain merged in (``chain``: the presets extending it)."""
    data = _read_preset(path)
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{path}: should be the path of another preset", key="extends")
    base_path = path.parent / base
    seen = (*chain, path.resolve())
    if base_path.resolve() in seen:
        cycle = " -> ".join(str(p) for p in (*seen, base_path.resolve()))
        raise ConfigError(f"{path}: presets extend each other in a cycle ({cycle})", key="extends")
    if not base_path.is_file():
        raise ConfigError(f"{path}: the preset it extends, {str(base_path)!r}, does not exist", key="extends")
    return _merge(_resolve_preset(base_path, seen), data)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base`` (see the module docstring)."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        old = merged.get(key)
        # Merged unless both name a plug-in `type` and the types differ (another plug-in, other fields).
        if (
            isinstance(old, dict)
            and isinstance(value, Mapping)
            and old.get("type", value.get("type")) == value.get("type", old.get("type"))
        ):
            merged[key] = _merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _yaml_reason(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or "syntax error"
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())


_KEY_PART = re.compile(r'"([^"]*)"|([^."]+)')


def split_key(key: str) -> list[str] | None:
    """The parts of a dotted key; a part in double quotes may contain dots (an LLM role such as
    ``agent.llm.roles."thalamus.summary".model``). ``None`` if the key is malformed."""
    parts: list[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(key, position)
        if match is None or not (part := match.group(1) if match.group(1) is not None else match.group(2)):
            return None
        parts.append(part)
        position = match.end()
        if position == len(key):
            return parts
        if key[position] != ".":
            return None
        position += 1


def _parse_override(item: str) -> tuple[str, object]:
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"malformed override {item!r}; expected dotted.key=value")
    if split_key(key) is None:
        raise ConfigError(f"malformed key in override {item!r}", key=key)
    try:
        return key, yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid value {text!r} ({_yaml_reason(err)})", key=key) from None


def _set_dotted(raw: dict[str, Any], key: str, value: object) -> None:
    parts = split_key(key)
    assert parts is not None  # checked by _parse_override
    *parents, leaf = parts
    node = raw
    for depth, part in enumerate(parents):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            where = ".".join(parents[: depth + 1])
            raise ConfigError(f"is not a mapping, cannot set {key!r}", key=where)
        node = child
    node[leaf] = value


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML) to a copy of ``raw``."""
    result = copy.deepcopy(raw)
    for item in overrides:
        key, value = _parse_override(item)
        _set_dotted(result, key, value)
    return result


def dump_config(cfg: Config) -> dict[str, Any]:
    """The resolved config as plain data (plug-in sections keep their own fields), for ``config.yaml``."""
    return cfg.model_dump(mode="json")


def resolve_run_dir(cfg: Config, now: datetime | None = None) -> Path:
    """``run.dir`` if set, else ``runs/<UTC timestamp>_<run.name>`` relative to the working directory."""
    if cfg.run.dir is not None:
        return Path(cfg.run.dir)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{stamp}_{cfg.run.name}"
