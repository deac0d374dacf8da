"""The whole memory system from config: an oracle-driven household episode through all four stores,
persistence across processes, a shared Chroma server, the offline MiniLM default, the inspection CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.oracle import solve
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.factory import open_memory, wipe_memory
from modules.hippocampus.system import MemorySystem
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.cli.main import main
from robomem.embeddings.config import EmbedderConfig
from robomem.errors import ConfigError, StoreError
from robomem.stores.config import VectorConfig
from tests.conftest import ChromaServer

FAST = MemoryConfig(embedder=EmbedderConfig(type="hashing"), vector=VectorConfig(type="exact"))


def _episode(memory: MemorySystem, episode_id: str = "run/base/1") -> tuple[str, str]:
    """Solve one committed task with the oracle while the memory watches every step; returns
    (the task's scene, the place where the picked object was found)."""
    env = HouseholdEnv(HouseholdConfig(max_steps=60))
    task = next(t for t in env.tasks("base") if t.task_type == "pick_and_place_simple")
    thalamus = DeterministicThalamus()
    ctx = EpisodeContext(site=task.scene, episode_id=episode_id, instruction=task.instruction)
    memory.begin_episode(ctx)
    observation = env.reset(task)
    perceived = thalamus.perceive(ctx, task, 0, observation, None)
    memory.update(perceived.summary)
    probe = HouseholdEnv(HouseholdConfig(max_steps=60))
    probe.reset(task)
    actions = solve(probe)
    found_at = ""
    history: list[StepRecord] = []
    for action in actions:
        place = env.world.agent_location
        result = env.step(action)
        info = result.info
        if action.startswith("pick up"):
            found_at = place or ""
        last = ExecutedAction(action, info["env_feedback"], info["last_action_success"], info["env_step"])
        history.append(StepRecord(action, info["env_feedback"], info["last_action_success"]))
        perceived = thalamus.perceive(ctx, task, info["env_step"], result.observation, last)
        memory.update(perceived.summary)
        memory.retrieve(perceived.queries)
    memory.end_episode(EpisodeOutcome(ctx, success=True, progress=1.0, steps=tuple(history), time=1.0))
    return task.scene, found_at


def test_one_episode_reaches_every_store(tmp_path: Path) -> None:
    memory = open_memory(FAST, tmp_path / "mem")
    try:
        _, found_at = _episode(memory)
        results = memory.retrieve(["where was the object found"])
    finally:
        memory.close()
    assert set(results) == {"temporal", "spatial", "episodic", "semantic"}
    assert results["episodic"].lines[0].startswith("Task: ")
    assert any(f"was found at {found_at}" in line for line in results["semantic"].lines)
    assert {t.phase for t in memory.timings} == {"update", "retrieve", "end"}
    assert all(set(t.per_store) == set(results) for t in memory.timings)
    manifest = json.loads((tmp_path / "mem" / "manifest.json").read_text())
    assert manifest["embedder"] == "hashing-ngrams-v1"


def test_reopening_in_a_new_process_restores_everything(tmp_path: Path) -> None:
    memory = open_memory(FAST, tmp_path / "mem")
    _episode(memory)
    queries = ["Mug", "CounterTop", "put the object"]
    before = {name: result.lines for name, result in memory.retrieve(queries).items() if name != "temporal"}
    memory.close()
    script = textwrap.dedent(
        f"""
        import json
        from modules.hippocampus.base import EpisodeContext
        from modules.hippocampus.config import MemoryConfig
        from modules.hippocampus.factory import open_memory, wipe_memory
        from robomem.embeddings.config import EmbedderConfig
        from robomem.stores.config import VectorConfig
        config = MemoryConfig(embedder=EmbedderConfig(type="hashing"), vector=VectorConfig(type="exact"))
        memory = open_memory(config, __import__("pathlib").Path({str(tmp_path / "mem")!r}))
        site = json.loads({json.dumps(json.dumps(_site(tmp_path)))})
        memory.begin_episode(EpisodeContext(site=site, episode_id="run/base/2", instruction="x"))
        out = {{n: list(r.lines) for n, r in memory.retrieve({queries!r}).items() if n != "temporal"}}
        memory.close()
        print(json.dumps(out))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    after = json.loads(done.stdout.strip().splitlines()[-1])
    assert after == {name: list(lines) for name, lines in before.items()}


def _site(tmp_path: Path) -> str:
    env = HouseholdEnv(HouseholdConfig())
    return next(t for t in env.tasks("base") if t.task_type == "pick_and_place_simple").scene


def test_memory_is_never_wiped_implicitly_but_fresh_wipes(tmp_path: Path) -> None:
    memory = open_memory(FAST, tmp_path / "mem")
    _episode(memory)
    memory.close()
    reopened = open_memory(FAST, tmp_path / "mem")
    assert reopened["episodic"].index.store.count() == 1  # type: ignore[attr-defined]
    reopened.close()
    fresh = open_memory(FAST, tmp_path / "mem", fresh=True)
    assert fresh["episodic"].index.store.count() == 0  # type: ignore[attr-defined]
    fresh.close()


def test_fresh_refuses_a_folder_that_is_not_a_memory_and_touches_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "papers"
    (folder / "drafts").mkdir(parents=True)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / "manifest.json").write_text('{"name": "someone else\'s manifest"}', encoding="utf-8")
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    with pytest.raises(ConfigError, match="is not a robomem memory directory"):
        open_memory(FAST, folder, fresh=True)
    with pytest.raises(ConfigError, match="is not a robomem memory directory"):
        wipe_memory(FAST, folder)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before
    with pytest.raises(ConfigError, match="is not a folder"):
        wipe_memory(FAST, folder / "notes.txt")


def test_a_wipe_deletes_every_file_robomem_wrote_and_nothing_else(tmp_path: Path) -> None:
    for vector in ("exact", "chroma"):
        folder = tmp_path / vector
        config = FAST.model_copy(update={"vector": VectorConfig(type=vector)})
        memory = open_memory(config, folder)
        _episode(memory)
        memory.close()
        (folder / "notes.txt").write_text("mine", encoding="utf-8")
        (folder / ".episodes.jsonl.k2j4.tmp").write_text("", encoding="utf-8")  # a killed atomic write
        wipe_memory(config, folder)
        # Everything a run leaves there is known: a store adding a file wipes would miss fails here.
        assert [p.name for p in folder.iterdir()] == ["notes.txt"]
        assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_memory_built_with_another_embedder_refuses_to_open(tmp_path: Path) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    other = MemoryConfig(vector=VectorConfig(type="exact"))  # the MiniLM default
    with pytest.raises(StoreError, match="was built with the hashing embedder 'hashing-ngrams-v1'") as err:
        open_memory(other, tmp_path / "mem")
    assert "set agent.memory.embedder.type=hashing back" in str(err.value)
    assert "--fresh-memory" in str(err.value)


def test_the_manifest_records_the_embedder_type_model_and_dimension(tmp_path: Path) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    manifest = json.loads((tmp_path / "mem" / "manifest.json").read_text())
    assert (manifest["embedder_type"], manifest["embedder"], manifest["dim"]) == (
        "hashing",
        "hashing-ngrams-v1",
        384,
    )


def test_a_memory_from_before_the_type_was_recorded_still_opens(tmp_path: Path) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    path = tmp_path / "mem" / "manifest.json"
    old = json.loads(path.read_text())
    del old["embedder_type"]
    path.write_text(json.dumps(old))
    open_memory(FAST, tmp_path / "mem").close()  # model name and dimension match: it opens
    assert "embedder_type" not in json.loads(path.read_text()), "opening never rewrites the manifest"
    with pytest.raises(StoreError, match="was built with the hashing embedder"):  # another model: refused
        open_memory(MemoryConfig(vector=VectorConfig(type="exact")), tmp_path / "mem")


def test_the_same_model_name_from_another_embedder_type_is_refused(tmp_path: Path) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    path = tmp_path / "mem" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "embedder_type": "openai"}))
    with pytest.raises(StoreError, match=r"set agent\.memory\.embedder\.type=openai "):
        open_memory(FAST, tmp_path / "mem")


def test_the_default_embedder_is_the_offline_minilm(tmp_path: Path) -> None:
    memory = open_memory(MemoryConfig(vector=VectorConfig(type="exact")), tmp_path / "mem")
    memory.close()
    manifest = json.loads((tmp_path / "mem" / "manifest.json").read_text())
    assert (manifest["embedder"], manifest["dim"]) == ("all-MiniLM-L6-v2", 384)


def _robot_a_on_a_server(tmp_path: Path, server: ChromaServer, namespace: str) -> MemoryConfig:
    """The memory config of robots sharing ``namespace`` on ``server``, after robot A's first episode."""
    vector = VectorConfig(type="chroma_http", host=server.host, port=server.port, namespace=namespace)
    config = MemoryConfig(embedder=EmbedderConfig(type="hashing"), vector=vector)
    robot_a = open_memory(config, tmp_path / "robot_a")
    _episode(robot_a, "robot_a/base/1")
    robot_a.close()
    return config


@pytest.mark.chroma
def test_long_term_memory_on_a_shared_chroma_server(tmp_path: Path, chroma_server: ChromaServer) -> None:
    config = _robot_a_on_a_server(tmp_path, chroma_server, "shared1")
    # A second robot with its own memory folder sees the first robot's long-term memory on the server.
    robot_b = open_memory(config, tmp_path / "robot_b")
    try:
        robot_b.begin_episode(EpisodeContext(site="elsewhere", episode_id="robot_b/1", instruction="x"))
        episodic = robot_b.retrieve(["put the object"])["episodic"]
    finally:
        robot_b.close()
    assert len(episodic.lines) == 1
    assert "robot_a/base/1" in str(episodic.data[0]["episode_id"])


@pytest.mark.chroma
def test_wiping_one_robot_keeps_the_shared_memory_unless_asked(
    tmp_path: Path, chroma_server: ChromaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _robot_a_on_a_server(tmp_path, chroma_server, "wipe1")
    vector = config.vector
    # Robot B starts over: its own folder is emptied, the fleet's long-term memory is not.
    robot_b = open_memory(config, tmp_path / "robot_b", fresh=True)
    assert robot_b["episodic"].index.store.count() == 1  # type: ignore[attr-defined]
    robot_b.close()
    server = [
        f"memory.vector.host={vector.host}",
        f"memory.vector.port={vector.port}",
        "memory.vector.namespace=wipe1",
    ]
    wipe = ["memory", "wipe", "--memory-dir", str(tmp_path / "robot_a"), "--yes", *server]
    assert main(wipe) == 0
    assert "the shared long-term memory was kept" in capsys.readouterr().out
    assert list((tmp_path / "robot_a").iterdir()) == []
    robot_a = open_memory(config, tmp_path / "robot_a")
    assert robot_a["episodic"].index.store.count() == 1  # type: ignore[attr-defined]
    robot_a.close()
    # Asked explicitly: emptied on the server, for everyone (the memory's embedder comes from its manifest).
    assert main([*wipe, "--shared"]) == 0
    robot_b = open_memory(config, tmp_path / "robot_b")
    assert robot_b["episodic"].index.store.count() == 0  # type: ignore[attr-defined]
    robot_b.close()


def test_memory_cli_overrides_take_both_prefixes_and_bad_ones_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    mem = str(tmp_path / "mem")
    # `memory.` as documented, and `agent.memory.`, the form `robomem eval` takes.
    assert main(["memory", "show", "--memory-dir", mem, "memory.episodic.top_k=3"]) == 0
    assert main(["memory", "show", "--memory-dir", mem, "agent.memory.episodic.top_k=3"]) == 0
    capsys.readouterr()
    assert main(["memory", "show", "--memory-dir", mem, "memory.vector.hots=x"]) == 2
    assert capsys.readouterr().err.strip() == "robomem: error [config]: memory.vector.hots: unknown key"


def test_wiping_shared_memory_that_is_not_shared_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    open_memory(FAST, tmp_path / "mem").close()
    assert main(["memory", "wipe", "--memory-dir", str(tmp_path / "mem"), "--yes", "--shared"]) == 2
    assert "--shared is for a Chroma server" in capsys.readouterr().err
    assert (tmp_path / "mem" / "manifest.json").exists()


def test_memory_cli_show_export_wipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    memory = open_memory(FAST, tmp_path / "mem")
    scene, _ = _episode(memory)
    memory.close()
    mem = str(tmp_path / "mem")
    assert main(["memory", "show", "--memory-dir", mem]) == 0
    shown = capsys.readouterr().out
    assert f"spatial [{scene}]:" in shown
    assert "episodic: 1 items, 0 archived" in shown
    assert main(["memory", "export", "--memory-dir", mem, "--out", str(tmp_path / "out")]) == 0
    exported = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert exported == [
        "episodic.jsonl",
        "semantic.jsonl",
        f"spatial/{scene}.graphml",
        f"spatial/{scene}.json",
    ]
    assert json.loads((tmp_path / "out" / "episodic.jsonl").read_text().splitlines()[0])["text"].startswith(
        "Task: "
    )
    assert main(["memory", "wipe", "--memory-dir", mem]) == 2  # refuses without --yes
    assert (tmp_path / "mem" / "manifest.json").exists()
    assert main(["memory", "wipe", "--memory-dir", mem, "--yes"]) == 0
    assert list((tmp_path / "mem").iterdir()) == []


def test_one_process_at_a_time_per_memory_folder(tmp_path: Path) -> None:
    """Two runs on one folder corrupted each other's stores (an outside check): another process is refused
    in one line while the first holds the folder (a wipe too), and the folder is free once the first closes
    (a killed holder's lock goes with it: the OS drops a dead process's flock)."""
    import subprocess
    import sys

    from modules.hippocampus.config import MemoryConfig
    from modules.hippocampus.factory import open_memory

    folder = tmp_path / "m"
    config = MemoryConfig(embedder={"type": "hashing"}, vector={"type": "exact"})
    other = (
        "import sys\nfrom pathlib import Path\nfrom modules.hippocampus.config import MemoryConfig\n"
        "from modules.hippocampus.factory import open_memory\nfrom robomem.errors import StoreError\n"
        "cfg = MemoryConfig(embedder={'type': 'hashing'}, vector={'type': 'exact'})\n"
        "try:\n    open_memory(cfg, Path(sys.argv[1])).close()\n"
        "except StoreError as e:\n    print(e)\n    sys.exit(2)\n"
    )

    def another_process(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*argv], capture_output=True, text=True, timeout=120, check=False)

    memory = open_memory(config, folder)
    try:
        busy = another_process(sys.executable, "-c", other, str(folder))
        assert busy.returncode == 2, busy.stderr
        assert "is in use by another robomem process" in busy.stdout
        robomem = str(Path(sys.executable).parent / "robomem")
        wipe = another_process(robomem, "memory", "wipe", "--memory-dir", str(folder), "--yes")
        assert wipe.returncode == 2 and "in use by another robomem process" in wipe.stderr
        assert (folder / "manifest.json").exists()
    finally:
        memory.close()
    free = another_process(sys.executable, "-c", other, str(folder))
    assert free.returncode == 0, free.stdout + free.stderr


@pytest.mark.parametrize(
    ("overrides", "threads"),
    [
        ({}, False),  # every operation deterministic, MiniLM and Chroma in the process: no thread helps
        ({"vector": {"type": "exact"}, "embedder": {"type": "hashing"}}, False),
        ({"temporal": {"compressor": "llm"}}, True),  # a model call to wait on
        ({"embedder": {"type": "openai", "model": "e"}}, True),  # an embedding endpoint
        ({"vector": {"type": "chroma_http"}}, True),  # a Chroma server
        ({"parallel": True}, True),
        ({"parallel": False, "temporal": {"compressor": "llm"}}, False),
    ],
)
def test_memory_runs_its_stores_on_threads_only_when_something_may_wait(
    overrides: dict[str, object], threads: bool
) -> None:
    assert MemoryConfig.model_validate(overrides).threads() is threads


def test_an_offline_memory_opens_without_threads_and_an_llm_memory_with_them(tmp_path: Path) -> None:
    offline = open_memory(MemoryConfig(embedder=EmbedderConfig(type="hashing")), tmp_path / "a")
    try:
        assert offline.parallel is False
        assert offline.background is True  # the episode's consolidation still leaves the last step
    finally:
        offline.close()
    forced = open_memory(MemoryConfig(parallel=True, embedder=EmbedderConfig(type="hashing")), tmp_path / "b")
    try:
        assert forced.parallel is True
    finally:
        forced.close()
