"""``eval.executor: dask``: the evaluation on a real Dask LocalCluster (2 worker processes, 127.0.0.1 only, no
dashboard), each worker with its own env, long-term memory shared on a real Chroma server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from robomem.cli.main import main
from robomem.run_id import read_run_id
from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store
from robomem.testing.hashing import HashingEmbedder
from tests.conftest import ChromaServer
from tests.robomem.agents import resume_helpers as rh

EPISODES = ("--subset", "base", "--subset", "spatial", "--episodes", "3", "env.max_steps=15")
LIGHT = ("agent.memory.embedder.type=hashing",)


def _eval(run_dir: Path, *args: str) -> None:
    assert main(["eval", "--no-progress", "--run-dir", str(run_dir), *LIGHT, *EPISODES, *args]) == 0


def _episodes_in(server: ChromaServer, namespace: str, root: Path) -> set[str]:
    embedder = HashingEmbedder()
    vector = VectorConfig(type="chroma_http", host=server.host, port=server.port, namespace=namespace)
    store = open_vector_store(
        vector, memory_dir=root, name="episodic", embedder_name=embedder.name, dim=embedder.dim
    )
    try:
        return {e for item in store.get() for e in str(item.metadata["episodes"]).split(",") if e}
    finally:
        store.close()


@pytest.mark.chroma
@pytest.mark.slow
def test_a_dask_local_cluster_runs_the_evaluation_with_memory_shared_on_a_chroma_server(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install -e '.[dask]')")
    namespace = f"dask{uuid.uuid4().hex[:12]}"  # the session's server is shared with other tests
    shared = (
        "agent.memory.vector.type=chroma_http",
        f"agent.memory.vector.host={chroma_server.host}",
        f"agent.memory.vector.port={chroma_server.port}",
        f"agent.memory.vector.namespace={namespace}",
    )
    _eval(tmp_path / "seq", "agent.memory.vector.type=exact")
    run = tmp_path / "run"
    _eval(run, "--workers", "2", "eval.executor=dask", *shared)
    # Every episode once, with the sequential run's results (the offline agent's episodes here do not depend
    # on what the others taught), and each worker's episodes in the one shared episodic memory.
    assert rh.results(run) == rh.results(tmp_path / "seq"), rh.first_difference(
        rh.results(run), rh.results(tmp_path / "seq")
    )
    run_id = read_run_id(run)
    wanted = {f"{run_id}/{subset}/{n}" for subset in ("base", "spatial") for n in (1, 2, 3)}
    assert _episodes_in(chroma_server, namespace, tmp_path) == wanted
    assert sorted(p.name for p in (run / "workers").iterdir()) == ["1", "2"]


def test_without_dask_the_error_says_to_install_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    assert (
        main(["eval", "--no-progress", "--run-dir", str(tmp_path / "r"), *EPISODES, "eval.executor=dask"])
        == 2
    )
    assert "install the dask extra (pip install 'robomem[dask]')" in capsys.readouterr().err
