"""Parallel evaluation (``eval.workers`` > 1): the plan is dealt to workers, each with its own env, agent
and memory folder, on threads, processes or a Dask cluster.

How the work is dealt: the plan is cut into units (an episode; in lifelong mode a whole task sequence, every
attempt, so its house and its memory persist in order on one worker) and the units, longest first, each go
to the worker with the fewest episodes so far (:func:`deal`; units of one length go round-robin). The deal
depends only on the plan and ``N``, so a run is reproducible for a given ``N`` and ``--resume`` finds every
worker's checkpoints and memory where that worker left them (``workers.json`` records ``N`` and the deal; a
resume with another ``N`` is refused). Results are numbered as in a sequential run
(:func:`robomem.eval.harness.number_episodes`) and each worker writes only its own episodes' files
(atomically), so the result files of independent episodes are the sequential run's.

Memory: worker ``k`` keeps its state in ``<run>/workers/<k>/`` (LangGraph checkpoints, LLM usage and, unless
``agent.memory.dir`` is set, its memory; a set ``agent.memory.dir`` becomes ``<dir>/worker_<k>``). One folder
per worker because a memory folder is one process's at a time (its flock, modules/hippocampus/dirlock.py) and
embedded Chroma is not multi-process safe; it also keeps each worker's temporal and pending state apart. So
episodes couple only within a worker: worker ``k``'s memory holds the episodes dealt to it before, not all
the episodes before it in the plan. Long-term memory shared between workers goes through a Chroma server
(``agent.memory.vector.type: chroma_http``; its writes are serialised by robomem/stores/chroma_shared.py):
then a worker also sees other workers' episodes, as soon as they are written, which depends on timing.

Executors: ``processes`` (default; CPU-bound offline agents scale past the GIL; forked from the parent when
that is safe, see :func:`_process_context`), ``threads`` (LLM-bound runs: no start-up per worker), ``dask``
(``eval.scheduler``, or a LocalCluster on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import importlib
import json
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.base import Env
from robomem.config import Config, dump_config
from robomem.errors import ConfigError
from robomem.eval._progress import RunProgress
from robomem.eval.harness import WORKERS_FILE, PlannedEpisode, check_worker_count, number_episodes
from robomem.eval.results import EpisodeRecord, episode_result_path
from robomem.eval.runner import RecordingEnv, run_planned
from robomem.storage import write_json_atomic

__all__ = ("WorkerJob", "deal", "run_parallel", "run_worker", "worker_dir")

#: Seconds between looks at the finished episodes (the progress bar) while workers run.
_POLL_S = 0.5
#: Imported once by the process executor's fork server (when it cannot fork), so workers start without
#: re-importing them.
_PRELOAD = ("robomem.eval.parallel", "robomem.agents.robomemory", "envs.registry")

Numbered = list[tuple[PlannedEpisode, int]]


@dataclass(frozen=True)
class WorkerJob:
    """Everything a worker needs, as plain data (it crosses to other processes and machines)."""

    config: dict[str, Any]
    run_dir: str
    worker: int  # from 1
    indices: tuple[int, ...]  # positions in the plan, in plan order
    resume: bool
    fresh_memory: bool


def worker_dir(run_dir: Path, worker: int) -> Path:
    return run_dir / "workers" / str(worker)


#: How a run's units were dealt (``workers.json``): each unit, the longest first, to the worker with the
#: fewest episodes so far. A run whose file does not say was dealt round-robin (robomem before 2026-12-05).
LONGEST_FIRST = "longest_first"


def deal(numbered: Numbered, workers: int, *, longest_first: bool = True) -> list[tuple[int, ...]]:
    """The plan positions of each worker's episodes, each worker's in plan order (workers without any are
    left out). Units of equal length are dealt round-robin in plan order; a longer unit (a lifelong sequence
    with more tasks) goes first, to the worker with the fewest episodes so far (ties: the first such worker),
    so no worker is left finishing a long sequence alone at the end. ``longest_first=False``: unit ``i`` to
    worker ``i mod N``, the rule of runs whose ``workers.json`` names none."""
    units: list[list[int]] = []
    where: dict[str, int] = {}
    for index, (item, _) in enumerate(numbered):
        if item.sequence_id is None:
            units.append([index])
            continue
        if item.sequence_id not in where:
            where[item.sequence_id] = len(units)
            units.append([])
        units[where[item.sequence_id]].append(index)
    lanes: list[list[int]] = [[] for _ in range(min(workers, len(units)))]
    if not longest_first:
        for i, unit in enumerate(units):
            lanes[i % len(lanes)].extend(unit)
    else:
        for unit in sorted(units, key=len, reverse=True):  # stable: equal lengths stay in plan order
            min(lanes, key=len).extend(unit)  # the first of the least loaded
    return [tuple(sorted(lane)) for lane in lanes]


def run_parallel(
    cfg: Config,
    env: Env,
    run_dir: Path,
    numbered: Numbered,
    bar: RunProgress,
    *,
    resume: bool,
    fresh_memory: bool,
) -> list[EpisodeRecord]:
    """Every planned episode's record, in plan order."""
    workers = cfg.eval.workers
    longest_first = _check_workers_file(run_dir, workers, resume)
    lanes = deal(numbered, workers, longest_first=longest_first)
    config = dump_config(cfg)
    jobs = [
        WorkerJob(config, str(run_dir), k, lane, resume, fresh_memory)
        for k, lane in enumerate(lanes, start=1)
    ]
    # Workers build their own envs; this one only planned. Closing it frees what it holds (a bridge
    # endpoint: a server serves one client at a time). It reopens on use.
    env.close()
    # The workers may be other processes: the parent learns of a finished episode from its result file.
    waiting = {f"{item.subset}/{n}": episode_result_path(run_dir, item.subset, n) for item, n in numbered}

    def poll(*, skipped: bool = False) -> None:
        for key, path in list(waiting.items()):
            if path.exists():
                del waiting[key]
                record = EpisodeRecord.model_validate_json(path.read_text(encoding="utf-8"))
                bar.episode_finished(key, success=record.task_success >= 1.0, skipped=skipped)

    if resume:
        poll(skipped=True)

    if cfg.eval.executor == "dask":
        results = _run_dask(cfg, jobs, poll)
    else:
        results = _run_local(cfg.eval.executor, jobs, poll, bar.paused)
    records: dict[int, EpisodeRecord] = {}
    for lane in results:
        for index, data in lane:
            records[index] = EpisodeRecord.model_validate(data)
    missing = [i for i in range(len(numbered)) if i not in records]
    if missing:  # a worker returned without all its episodes: a bug, never a silently shorter run
        raise RuntimeError(
            f"parallel workers left {len(missing)} episodes unrun (plan positions {missing[:5]})"
        )
    return [records[i] for i in range(len(numbered))]


def _check_workers_file(run_dir: Path, workers: int, resume: bool) -> bool:
    """Record the run's worker count and deal, or check a resumed run's; ``True``: deal longest first."""
    path = run_dir / WORKERS_FILE
    if resume:
        check_worker_count(run_dir, workers)
    if not path.exists():
        write_json_atomic(path, {"workers": workers, "deal": LONGEST_FIRST})
        return True
    # A resume deals as the run began, so every worker finds its checkpoints and memory where it left them.
    return bool(json.loads(path.read_text(encoding="utf-8")).get("deal") == LONGEST_FIRST)


# ---- the worker -----------------------------------------------------------------------------------------
#: Set when a worker failed: the others stop after their current episode (the run is then resumable).
_stop = threading.Event()


def _init_process(stop: Any) -> None:
    global _stop
    _stop = stop


def run_worker(job: WorkerJob) -> list[tuple[int, dict[str, Any]]]:
    """Run one worker's episodes (in any thread, process or Dask worker) and return ``(plan position,
    record)`` pairs. It builds its own env and agent from the config."""
    # Imported here: a Dask worker imports this module without the environments.
    from envs.registry import ENVS
    from robomem.agents import AGENTS
    from robomem.eval.harness import plan_episodes

    cfg = Config.model_validate(job.config)
    run_dir = Path(job.run_dir)
    out: list[tuple[int, dict[str, Any]]] = []
    with ENVS.build(_worker_env_config(cfg.env, job.worker)) as env:
        _, plan = plan_episodes(cfg, env)
        numbered = number_episodes(plan)
        agent = AGENTS.build(
            _worker_agent_config(cfg.agent, job.worker),
            fresh_memory=job.fresh_memory,
            run_seed=cfg.eval.seed,
            work_dir=worker_dir(run_dir, job.worker),
        )
        recorder = RecordingEnv(env)
        agent.begin_run(run_dir)
        try:
            for index in job.indices:
                if _stop.is_set():
                    break
                item, n = numbered[index]
                record, _ = run_planned(
                    cfg, item, n, env, recorder, agent, run_dir, clock=time.perf_counter, resume=job.resume
                )
                out.append((index, record.model_dump(mode="json")))
        finally:
            agent.end_run()
    return out


def _worker_env_config(env_cfg: Any, worker: int) -> Any:
    """A pool of endpoints is tried from a different one by each worker (fewer collisions at start)."""
    endpoints = getattr(env_cfg, "endpoints", None)
    if not endpoints:
        return env_cfg
    shift = (worker - 1) % len(endpoints)
    return env_cfg.model_copy(update={"endpoints": (*endpoints[shift:], *endpoints[:shift])})


def _worker_agent_config(agent_cfg: Any, worker: int) -> Any:
    memory = getattr(agent_cfg, "memory", None)
    folder = getattr(memory, "dir", None)
    if memory is None or not folder:
        return agent_cfg  # the agent puts its memory in its worker folder
    own = str(Path(folder) / f"worker_{worker}")
    return agent_cfg.model_copy(update={"memory": memory.model_copy(update={"dir": own})})


# ---- executors ------------------------------------------------------------------------------------------
Results = list[list[tuple[int, dict[str, Any]]]]


def _run_local(
    kind: str,
    jobs: list[WorkerJob],
    poll: Callable[[], None],
    paused: Callable[[], AbstractContextManager[None]],
) -> Results:
    with ExitStack() as stack:
        # The progress line's thread stops while the pool starts: worker processes fork at the first submit,
        # and only from a parent without other threads (_process_context).
        with paused():
            pool, stop = stack.enter_context(_local_pool(kind, len(jobs)))
            futures = [pool.submit(run_worker, job) for job in jobs]
        try:
            while True:
                done, pending = cf.wait(futures, timeout=_POLL_S, return_when=cf.FIRST_EXCEPTION)
                poll()
                failed = [f for f in done if f.exception() is not None]
                if failed or not pending:
                    break
        except BaseException:
            stop.set()
            raise
        if failed:
            stop.set()  # the others finish their current episode; `--resume` continues the run
            cf.wait(futures)
            raise failed[0].exception()  # type: ignore[misc]
        return [f.result() for f in futures]


@contextmanager
def _local_pool(kind: str, n: int) -> Iterator[tuple[cf.Executor, Any]]:
    if kind == "threads":
        _stop.clear()
        with cf.ThreadPoolExecutor(max_workers=n, thread_name_prefix="robomem-worker") as pool:
            yield pool, _stop
        return
    ctx = _process_context()
    stop = ctx.Event()
    with cf.ProcessPoolExecutor(
        max_workers=n, mp_context=ctx, initializer=_init_process, initargs=(stop,)
    ) as pool:
        yield pool, stop


def _process_context() -> Any:
    """``fork`` when it is safe, else a fork server. A forked worker starts at once with everything the
    parent has imported; a fork server is a new process that imports robomem again (~2 s of CPU, ~5 s at
    load 7 on 2 cores: a tenth of the offline demo's 2-worker run) before the first worker forks from it.
    Fork is safe only while no other thread runs in the parent, as a forked child inherits the locks such a
    thread holds but not the thread: none of Python's (an LLM server in a benchmark), and no Chroma client
    or onnxruntime, whose native threads Python does not see (robomem's CLI loads neither before the workers
    start; numpy's OpenBLAS threads are fork-safe)."""
    native = ("chromadb", "onnxruntime")
    if (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not any(name in sys.modules for name in native)
    ):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(_PRELOAD))
    return ctx


def _run_dask(cfg: Config, jobs: list[WorkerJob], poll: Callable[[], None]) -> Results:
    try:
        # By name: an optional extra, typed loosely whether installed or not.
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise ConfigError(
            "eval.executor=dask needs Dask: install the dask extra (pip install 'robomem[dask]')",
            key="eval.executor",
        ) from None
    cluster = None
    with ExitStack() as stack:
        if cfg.eval.scheduler is None:
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=len(jobs),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            client = stack.enter_context(distributed.Client(cfg.eval.scheduler))
        # One task per worker lane; pure=False: two runs' identical jobs are still two tasks.
        futures = [client.submit(run_worker, job, pure=False) for job in jobs]
        while True:
            try:
                distributed.wait(futures, timeout=_POLL_S)
                break
            except TimeoutError:
                poll()
                if any(f.status == "error" for f in futures):
                    break
        poll()
        results: Results = client.gather(futures)
        if cluster is not None:  # done (a failed run's cluster closes as Dask does)
            client.close()  # first: closing a worker that holds a result the client still has is a warning
            _close_workers(cluster)
        return results


#: Seconds a LocalCluster's worker process is given to end on its own when the evaluation is over.
_WORKER_EXIT_S = 30.0


def _close_workers(cluster: Any) -> None:
    """Close the LocalCluster's workers, each process given ``_WORKER_EXIT_S`` to end. The cluster's own close
    gives it 4 s (``Nanny.close``'s default), then kills it and logs a warning; a worker's interpreter takes
    1-2 s of CPU to shut down (langgraph, chromadb, onnxruntime, Dask), over 4 s on a loaded machine."""

    async def close_all() -> None:
        workers = list(cluster.workers.values())
        await asyncio.gather(*(worker.close(timeout=_WORKER_EXIT_S) for worker in workers))

    cluster.sync(close_all)
