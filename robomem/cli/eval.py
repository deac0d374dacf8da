"""``robomem eval``: evaluate an agent on an environment's task suites and print SR/GC per subset.

Flags are shorthands for config keys (``--episodes 5`` is ``eval.episodes=5``); any other
``dotted.key=value`` argument (optionally written ``--dotted.key=value``) overrides that key. Flags apply
first, so an explicit dotted override wins.

``--llm local`` starts a tiny LLM on this machine (SmolLM2-135M behind llama.cpp's OpenAI-compatible server,
127.0.0.1 only; install it with ``make local-llm``) for the whole run, and points the agent's LLM
(``agent.llm.*``, every role) at it. It proves the pipeline offline; the model is far too small to plan well.

``--verbose`` prints every step of the RoboMemory agent as it is traced (``<run>/<subset>/trace/``): the
thalamus summary, what memory answered, the plan, the critic's objections, the action and its feedback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from envs.base import Env
from robomem.agents import AGENTS
from robomem.cli._parser import Subcommands
from robomem.config import Config, apply_overrides, config_error, dump_config, load_config, resolve_run_dir
from robomem.errors import ConfigError, StoreError
from robomem.eval._progress import RunProgress
from robomem.eval.harness import PlannedEpisode, check_worker_count, evaluate, format_table, plan_episodes
from robomem.eval.metrics import Summary
from robomem.eval.results import EpisodeRecord
from robomem.llm.config import LLMConfig
from robomem.run_id import create_run_id
from robomem.storage import check_sqlite_file, write_bytes_atomic

__all__ = ("add_eval_parser", "execute", "overrides_from_args", "run_eval")


def add_eval_parser(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "eval",
        help="evaluate an agent and write EB-format results to a run directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="YAML preset, e.g. configs/demo.yaml (without one: the RoboMemory agent of configs/demo.yaml)",
    )
    parser.add_argument(
        "--subset", action="append", metavar="S", help="evaluate this subset (repeatable) [eval.subsets]"
    )
    parser.add_argument(
        "--episodes",
        metavar="N",
        help="the first N tasks of each subset (lifelong mode: the first N task sequences, each run in "
        "full, every attempt) [eval.episodes]",
    )
    parser.add_argument(
        "--seed", metavar="S", help="base seed of the run: the agent's and the perturbations' [eval.seed]"
    )
    parser.add_argument("--run-dir", metavar="DIR", help="output folder [run.dir]")
    parser.add_argument("--lifelong", action="store_true", help="lifelong mode [eval.mode=lifelong]")
    parser.add_argument(
        "--workers",
        metavar="N",
        help="run N episodes at once, each worker with its own env, agent and memory folder (lifelong: a "
        "task sequence stays on one worker) [eval.workers; eval.executor: processes, threads or dask]",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress line on stderr"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print every step on stderr as it happens (summary, memory, plan, critic, action, feedback)",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run (finished episodes are kept; the unfinished one resumes)",
    )
    parser.add_argument(
        "--fresh-memory",
        action="store_true",
        help="wipe the agent's memory directory before the run (memory is never wiped otherwise; a folder "
        "that is not a robomem memory is refused; long-term memory shared on a Chroma server is kept)",
    )
    parser.add_argument(
        "--llm",
        choices=("local",),
        help="local: serve the agent's LLM from SmolLM2-135M on 127.0.0.1 (make local-llm) [agent.llm.*]",
    )
    parser.set_defaults(run=run_eval)


def overrides_from_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The flags as dotted overrides, then the free ``key=value`` arguments."""
    overrides = []
    if args.subset:
        overrides.append(f"eval.subsets={json.dumps(args.subset)}")
    if args.episodes is not None:
        overrides.append(f"eval.episodes={args.episodes}")
    if args.seed is not None:
        overrides.append(f"eval.seed={args.seed}")
    if args.run_dir is not None:
        # JSON strings are YAML strings: a folder named `2024` or `null` stays a folder name.
        overrides.append(f"run.dir={json.dumps(args.run_dir)}")
    if args.lifelong:
        overrides.append("eval.mode=lifelong")
    if getattr(args, "workers", None) is not None:
        overrides.append(f"eval.workers={args.workers}")
    for item in extra:
        if item.startswith("-") and "=" not in item:
            raise ConfigError(f"unrecognized argument {item!r}; overrides look like dotted.key=value")
        overrides.append(item.removeprefix("--"))
    return overrides


def run_eval(args: argparse.Namespace, extra: list[str]) -> int:
    overrides = overrides_from_args(args, extra)
    if args.resume and args.run_dir is not None:
        raise ConfigError("--resume takes the run's own config.yaml and folder; drop --config/--run-dir")
    summary, _ = execute(
        args.config,
        overrides,
        resume=args.resume,
        fresh_memory=args.fresh_memory,
        progress=args.progress,
        verbose=args.verbose,
        llm=getattr(args, "llm", None),
    )
    print(format_table(summary))
    return 0


def execute(
    config: str | Path | Config | None,
    overrides: Sequence[str] = (),
    *,
    resume: str | Path | None = None,
    fresh_memory: bool = False,
    progress: bool = True,
    verbose: bool = False,
    llm: str | None = None,
) -> tuple[Summary, Path]:
    """What ``robomem eval`` does (and :func:`robomem.evaluate`): returns the summary and the run folder."""
    overrides = list(overrides)
    if resume:
        if fresh_memory:
            raise ConfigError(
                "--fresh-memory would wipe the memory the interrupted run was using; not with --resume"
            )
        if config is not None:
            raise ConfigError("--resume takes the run's own config.yaml and folder; drop --config/--run-dir")
        _check_resumable(Path(resume))
        config = Path(resume) / "config.yaml"
    with ExitStack() as stack:
        if llm == "local":
            overrides = _start_local_llm(stack, config, overrides)
        cfg = _load(config, overrides)
        return _run(cfg, resume=resume, fresh_memory=fresh_memory, progress=progress, verbose=verbose)


def _load(config: str | Path | Config | None, overrides: Sequence[str]) -> Config:
    if not isinstance(config, Config):
        return load_config(config, overrides)
    try:
        return Config.model_validate(apply_overrides(dump_config(config), overrides))
    except ValidationError as err:
        raise config_error(err) from None


def _start_local_llm(stack: ExitStack, path: str | Path | Config | None, overrides: list[str]) -> list[str]:
    """Start the local LLM server (stopped when ``stack`` closes) and return ``overrides`` preceded by the
    ones pointing ``agent.llm`` at it, so an explicit ``agent.llm.*=...`` argument still wins. The config is
    validated before anything starts."""
    from robomem.llm.local import LOCAL_MODEL, LocalLLMServer, local_llm_overrides

    try:
        cfg = _load(path, [*local_llm_overrides("http://127.0.0.1:1/v1"), *overrides])
    except ConfigError as err:
        if err.key != "agent.llm":
            raise
        cfg = _load(path, overrides)  # the agent has no `llm` section
    llm = getattr(cfg.agent, "llm", None)
    agent_type = getattr(cfg.agent, "type", "?")
    if not isinstance(llm, LLMConfig):
        raise ConfigError(
            f"--llm local needs an agent that uses an LLM (an `llm` section); {agent_type!r} has none",
            key="agent.type",
        )
    may_use_llm = getattr(cfg.agent, "may_use_llm", None)
    if callable(may_use_llm) and not may_use_llm():
        raise ConfigError(
            "--llm local would serve nobody: the planner, critic, thalamus and memory are all offline "
            "(use configs/llm_agent.yaml, or agent.planner.type=llm)",
            key="agent.planner.type",
        )
    server = stack.enter_context(LocalLLMServer())
    print(
        f"robomem: local LLM {LOCAL_MODEL} (llama.cpp) at {server.base_url}, "
        f"started in {server.start_time_s or 0.0:.1f} s",
        file=sys.stderr,
    )
    return [*local_llm_overrides(server.base_url, tuple(llm.roles)), *overrides]


def _run(
    cfg: Config, *, resume: str | Path | None, fresh_memory: bool, progress: bool, verbose: bool
) -> tuple[Summary, Path]:
    # Imported here so `robomem --help` and `robomem suites` do not load every environment.
    from envs.registry import ENVS
    from robomem.trace import format_record

    with ENVS.build(cfg.env) as env:
        # Parallel workers build their own agents (and wipe their own memory folders); this one checks tasks.
        parallel = cfg.eval.workers > 1 or cfg.eval.executor == "dask"
        agent = AGENTS.build(cfg.agent, fresh_memory=fresh_memory and not parallel, run_seed=cfg.eval.seed)
        planned = plan_episodes(cfg, env)
        _notices(cfg, env, planned)  # a bad subset selection fails before a run folder exists
        if resume:
            run_dir = Path(resume)
            check_worker_count(run_dir, cfg.eval.workers)  # before the config of the rest is recorded
            _record_resume_config(run_dir, cfg)
        else:
            run_dir = _make_run_dir(cfg)
            cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"dir": str(run_dir)})})
            write_bytes_atomic(run_dir / "config.yaml", _config_yaml(cfg))
        bar = RunProgress(len(planned[1]), enabled=progress)
        trace: Any = getattr(agent, "trace", None)
        if verbose and (parallel or trace is None):
            why = "parallel workers keep their own traces" if parallel else "this agent keeps no step trace"
            print(f"robomem: --verbose: {why}; nothing is printed per step", file=sys.stderr)
        elif verbose:
            trace.listeners.append(lambda episode, record: bar.log(format_record(episode, record)))
        summary = evaluate(
            cfg, env, agent, run_dir, progress=bar, resume=bool(resume), fresh_memory=fresh_memory
        )
    return summary, run_dir


def _check_resumable(run_dir: Path) -> None:
    """What a resume reads back must be whole: fail on a damaged checkpoint or result file before anything is
    opened, instead of with a traceback halfway through (the run folder and the memory stay as they are)."""
    # A parallel run's workers keep theirs in workers/<k>/ (robomem/eval/parallel.py).
    for checkpoints in [
        run_dir / "checkpoints.sqlite",
        *sorted(run_dir.glob("workers/*/checkpoints.sqlite")),
    ]:
        _check_checkpoints(run_dir, checkpoints)
    for path in sorted(run_dir.glob("*/results/episode_*_final_res.json")):
        try:
            EpisodeRecord.model_validate_json(path.read_bytes())
        except ValidationError as err:
            reason = err.errors()[0]["msg"]
            raise StoreError(
                f"cannot resume {str(run_dir)!r}: {path} is damaged (not a result file: {reason})",
                hint="restore it, or start a new run",
            ) from None


def _check_checkpoints(run_dir: Path, checkpoints: Path) -> None:
    problem = check_sqlite_file(checkpoints) if checkpoints.exists() else None
    if problem is None and checkpoints.exists() and checkpoints.stat().st_size == 0:
        problem = "it is empty"  # a valid SQLite file to SQLite, but every checkpoint in it is gone
    if problem is not None:
        # Without its checkpoint the unfinished episode would start over on top of what it had already
        # written to memory, which then differs from an uninterrupted run's (an outside check).
        raise StoreError(
            f"cannot resume {str(run_dir)!r}: {checkpoints} is damaged ({problem})",
            hint="restore it from a backup, or start a new run (finished episodes' results stay in this one)",
        )


def _record_resume_config(run_dir: Path, cfg: Config) -> None:
    """Overrides given with ``--resume`` change the run's config from here on: ``config.yaml`` says what the
    rest of the run uses, and the config the run started with is kept as ``config.partN.yaml``."""
    path = run_dir / "config.yaml"
    new = _config_yaml(cfg)
    if path.read_bytes() == new:
        return
    part = 1
    while (run_dir / f"config.part{part}.yaml").exists():
        part += 1
    write_bytes_atomic(run_dir / f"config.part{part}.yaml", path.read_bytes())
    write_bytes_atomic(path, new)


def _notices(cfg: Config, env: Env, planned: tuple[tuple[str, ...], tuple[PlannedEpisode, ...]]) -> None:
    """One line on stderr where the run is not what ``--episodes`` might suggest."""
    subsets, episodes = planned
    wanted = cfg.eval.episodes
    if cfg.eval.mode == "lifelong":
        sequences = len({item.sequence_id for item in episodes})
        print(
            f"robomem: lifelong mode: {len(episodes)} episodes = {sequences} task sequences "
            f"(eval.episodes counts sequences), each task attempted {cfg.eval.lifelong_repeats}x",
            file=sys.stderr,
        )
        if wanted is not None and wanted > sequences:
            print(f"robomem: only {sequences} sequences exist; running all of them", file=sys.stderr)
        return
    if wanted is None:
        return
    short = [(s, n) for s in subsets if (n := len(env.tasks(s))) < wanted]
    if short:
        have = ", ".join(f"{s} {n}" for s, n in short)
        print(
            f"robomem: eval.episodes={wanted}, but fewer tasks exist ({have}); running all "
            f"{len(episodes)} episodes",
            file=sys.stderr,
        )


def _config_yaml(cfg: Config) -> bytes:
    text = yaml.safe_dump(dump_config(cfg), sort_keys=False, allow_unicode=True)
    return text.encode("utf-8")


def _make_run_dir(cfg: Config) -> Path:
    """Create the run folder. An explicit ``run.dir`` must be new or empty (results are never mixed);
    an automatic one gets a ``_2``, ``_3`` ... suffix when two runs start in the same second."""
    base = resolve_run_dir(cfg)
    try:
        if cfg.run.dir is not None:
            if base.exists() and (not base.is_dir() or any(base.iterdir())):
                raise ConfigError(f"{str(base)!r} already exists and is not an empty folder", key="run.dir")
            base.mkdir(parents=True, exist_ok=True)
            create_run_id(base, cfg.run.id)
            return base
        for attempt in range(1, 1000):
            path = base if attempt == 1 else base.with_name(f"{base.name}_{attempt}")
            try:
                path.mkdir(parents=True)
            except FileExistsError:
                continue
            create_run_id(path, cfg.run.id)
            return path
    except OSError as err:
        raise ConfigError(f"cannot create {str(base)!r}: {err.strerror or err}", key="run.dir") from None
    raise ConfigError(f"too many runs named {str(base)!r}", key="run.dir")
