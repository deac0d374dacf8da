"""Everything in README.md that a user copies is exercised as written (issue #10, item 17).

The README's fenced blocks are parsed from the file, so a README edit that breaks one fails here. Every block
must be claimed by exactly one check below; a block nobody checks fails :func:`test_every_block_is_checked`.
Adaptations are named where they happen: runs are cut to a few episodes (``eval.episodes`` / ``eval.subsets``
appended, which the same commands accept), and the planner package is installed into a folder of its own
rather than into the shared venv (other tests must not see the plug-in). Commands of the inline kind
(`` `robomem eval ...` `` in prose) are parsed and their config resolved.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from robomem.cli.eval import overrides_from_args
from robomem.cli.main import build_parser
from robomem.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(README.read_text(encoding="utf-8"))]


def block(marker: str) -> str:
    found = [text for _, text in blocks() if marker in text]
    assert len(found) == 1, f"README should have one block containing {marker!r}, has {len(found)}"
    return found[0]


def commands(text: str) -> list[str]:
    """Shell lines of a block, comments dropped and continuation lines joined."""
    joined = text.replace("\\\n", " ")
    lines = [line.split(" #", 1)[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def run(line: str, cwd: Path, *, extra: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(line)
    if argv[0].startswith(".venv/bin/"):
        argv[0] = str(BIN / Path(argv[0]).name)  # the venv running these tests (a worktree's own)
    elif argv[0] == "python":
        argv[0] = sys.executable
    done = subprocess.run(
        [*argv, *extra],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return done


SHORT = ("eval.subsets=[base]", "eval.episodes=2", "--no-progress")


def _workdir(tmp_path: Path) -> Path:
    """A checkout-like folder: the commands name configs/ relative to the repository root."""
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    return tmp_path


# -- the checks, one per block ----------------------------------------------------------------------------


def check_quick_start(tmp_path: Path) -> None:
    make = commands(block("make demo"))
    assert [line.split()[:2] for line in make] == [["make", "demo"], ["make", "test"]]
    # `make demo` is run as the command it stands for, cut to two episodes; `make test` runs this very
    # suite, so only its recipe is checked (a dry run: every target it needs exists).
    demo = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, check=True)
    recipe = [line for line in demo.stdout.splitlines() if "robomem eval" in line]
    assert len(recipe) == 1, demo.stdout
    line = recipe[0].replace(".venv/bin/robomem", str(BIN / "robomem"))
    done = run(line, _workdir(tmp_path), extra=SHORT)

    # The sample output below the block is what the demo prints, row for row.
    def shape(row: str) -> str:
        return re.sub(r"\d+(\.\d+)?", "N", " ".join(row.split()))

    assert shape(block("steps 7.7")) == shape(done.stdout), done.stdout
    subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, check=True)


def check_architecture(tmp_path: Path) -> None:
    tree = block("build_graph()")
    names = re.findall(r"^\s*([\w.]+/|[\w]+\.py)", tree, re.M)
    missing = [n for n in names if not list(ROOT.glob(f"**/{n.rstrip('/')}"))]
    assert names and not missing, missing


def check_loop(tmp_path: Path) -> None:
    loop = block("memory_update (4 stores in parallel)")
    graph = (ROOT / "robomem" / "graph.py").read_text(encoding="utf-8")
    for node in re.findall(r"(\w+) \(", loop) + ["plan", "critic"]:
        assert f'"{node}"' in graph, node


def check_memory_commands(tmp_path: Path) -> None:
    work = _workdir(tmp_path)
    run(".venv/bin/robomem eval --config configs/demo.yaml --run-dir runs/demo", work, extra=SHORT)
    lines = commands(block("robomem memory show"))
    assert len(lines) == 2
    shown = run(lines[0].replace("<run>", "demo"), work)
    assert "raw episode log: 2 episodes" in shown.stdout
    exported = run(lines[1].replace("<run>", "demo"), work)
    assert "episodic.jsonl" in exported.stdout


def check_report_commands(tmp_path: Path) -> None:
    work = _workdir(tmp_path)
    lines = commands(block("robomem report runs/"))
    assert len(lines) == 5
    for line in lines[:3]:
        assert run(line, work, extra=SHORT).returncode == 0
    reported = run(lines[3], work)
    assert "Paired per task" in reported.stdout
    assert (work / "runs" / "full" / "report.html").exists() and (work / "runs" / "report.md").exists()
    run(lines[4], work)
    assert 'id="memory-data"' in (work / "runs" / "memory_view.html").read_text(encoding="utf-8")


def check_own_planner(tmp_path: Path) -> None:
    code = block("class GreedyFinder")
    toml = block('[project.entry-points."robomem.planners"]')
    target = re.search(r'greedy_finder = "([\w.]+):GreedyFinder"', toml)
    assert target is not None
    package = tmp_path / "your_package"
    module = package.joinpath(*target.group(1).split(".")).with_suffix(".py")
    module.parent.mkdir(parents=True)
    (module.parent / "__init__.py").write_text("", encoding="utf-8")
    module.write_text(code, encoding="utf-8")
    (package / "pyproject.toml").write_text(toml, encoding="utf-8")
    # The README's `pip install -e /path/to/your_package` builds the package from that pyproject.toml; here it
    # is installed into a folder of its own (the same build, not the shared venv).
    readme = README.read_text(encoding="utf-8")
    assert ".venv/bin/pip install -e /path/to/your_package" in readme
    site = tmp_path / "site"
    pip = [str(BIN / "pip"), "install", "--quiet", "--no-deps", "--target", str(site)]
    done = subprocess.run([*pip, str(package)], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    selected = re.search(r"`(agent\.planner\.type=\w+)` on the\s+command line", readme)
    assert selected is not None
    work = _workdir(tmp_path)
    line = f".venv/bin/robomem eval --run-dir run {selected.group(1)} --config configs/demo.yaml"
    run(line, work, extra=SHORT, PYTHONPATH=str(site))
    steps = (work / "run" / "base" / "steps" / "episode_1_steps.json").read_text(encoding="utf-8")
    assert '"action": "find a ' in steps


def check_own_environment(tmp_path: Path) -> None:
    example = ROOT / "examples" / "robomem_example_plugins"
    toml = block('[project.entry-points."robomem.envs"]')
    entry = next(line for line in toml.splitlines() if line.startswith("pantry = "))
    assert entry.split("#")[0].strip() in (example / "pyproject.toml").read_text(encoding="utf-8")
    install, evaluate = commands(block("pip install ./examples/robomem_example_plugins"))
    # Run as written from a checkout-like folder holding a copy of the example (pip builds in the source
    # folder), installed into a folder of its own rather than the shared venv (other tests must not see it).
    work = _workdir(tmp_path)
    shutil.copytree(example, work / "examples" / example.name)
    site = tmp_path / "site"
    run(install, work, extra=("--quiet", "--no-deps", "--no-build-isolation", "--target", str(site)))
    run(evaluate, work, extra=("--no-progress", "--run-dir", "run", "eval.episodes=1"), PYTHONPATH=str(site))
    summary = json.loads((work / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["n"] == 1


def check_evaluation(tmp_path: Path) -> None:
    lines = commands(block("configs/eb_alfred.yaml --subset base"))
    work = _workdir(tmp_path)
    runs = []
    for n, line in enumerate(lines):
        if "--resume" in line:
            continue
        cut: tuple[str, ...] = () if "--episodes" in line else SHORT
        if "lifelong" in line:
            cut = ("eval.episodes=1", "--no-progress")  # one sequence: 10 tasks, twice
        run(f"{line} --run-dir runs/{n}", work, extra=cut)
        runs.append(work / "runs" / str(n))
    # `--resume runs/<run>`: on a run whose last episode is undone again, as after a kill.
    resume = next(line for line in lines if "--resume" in line)
    last = sorted(runs[0].glob("base/results/episode_*_final_res.json"))[-1]
    last.unlink()
    run(resume.replace("runs/<run>", str(runs[0])), work, extra=("--no-progress",))
    assert last.is_file()


def check_python_api(tmp_path: Path) -> None:
    """The `robomem.evaluate` example, run as written in a checkout-like folder."""
    work = _workdir(tmp_path)
    done = run(f"python -c {shlex.quote(block('robomem.evaluate('))}", work)
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"SR \d+% over 5 episodes", lines[0]), done.stdout
    assert lines[1].startswith("base SR ") and len(lines) == 2
    assert len(list((work / "runs" / "api_demo" / "base" / "trace").glob("episode_*_trace.jsonl.gz"))) == 5


def _resolved(line: str) -> Config:
    args, extra = build_parser().parse_known_args(shlex.split(line)[1:])
    return load_config(str(ROOT / args.config), overrides_from_args(args, extra))


def check_evaluation_at_scale(tmp_path: Path) -> None:
    lines = commands(block("--workers 2"))
    work = _workdir(tmp_path)
    run(f"{lines[0]} --run-dir runs/0", work, extra=SHORT)
    workers = json.loads((work / "runs" / "0" / "workers.json").read_text())
    assert workers == {"workers": 2, "deal": "longest_first"}
    # An LLM and EB servers are not here: those commands' configs resolve as written.
    llm = _resolved(lines[1])
    assert (llm.eval.workers, llm.eval.executor) == (16, "threads")
    assert len(_resolved(lines[2]).env.endpoints) == 3  # type: ignore[attr-defined]
    assert lines[3] == ".venv/bin/pip install -e '.[dask]'"
    if importlib.util.find_spec("distributed") is not None:
        run(f"{lines[4]} --run-dir runs/4", work, extra=SHORT)
    else:
        assert _resolved(lines[4]).eval.executor == "dask"
    last = sorted((work / "runs" / "0").glob("base/results/episode_*_final_res.json"))[-1]
    last.unlink()
    run(lines[5].replace("runs/<run>", str(work / "runs" / "0")), work, extra=("--no-progress",))
    assert last.is_file()


def check_ros(tmp_path: Path) -> None:
    lines = commands(block(".venv/bin/python -m envs.ros.sim_server"))
    assert lines[0] == "make ros"
    if importlib.util.find_spec("rclpy") is None:
        pytest.skip("rclpy (`make ros`, the ros extra) is not installed in this venv")
    env = {"ROS_DOMAIN_ID": str(100 + os.getpid() % 100), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    assert (
        lines[1].startswith("export ROS_DOMAIN_ID=") and "ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST" in lines[1]
    )
    work = _workdir(tmp_path)
    server = subprocess.Popen(
        [sys.executable, *shlex.split(lines[2])[1:]],
        cwd=work,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run(lines[3], work, extra=("--no-progress", "--run-dir", "run", "eval.episodes=1"), **env)
    finally:
        server.kill()
        server.wait(timeout=30)


def skip_eb_bridge(tmp_path: Path) -> None:
    pytest.skip(
        "EmbodiedBench itself (its Python 3.9 conda env, Unity for ALFRED, habitat-sim) and an OpenAI "
        "account cannot exist here; the bridge's robomem side is tested against envs.bridge.household_server"
    )


def check_embedder_config(tmp_path: Path) -> None:
    """The served-embedder snippet, as a preset, against a real OpenAI-compatible server on 127.0.0.1 (the
    scripted one stands in for vLLM: it serves `/v1/embeddings`); only base_url is pointed at it."""
    from robomem.testing.scripted_llm import ScriptedLLMServer

    text = block("type: openai\n")
    preset = tmp_path / "embedder.yaml"
    preset.write_text(text, encoding="utf-8")
    cfg = load_config(str(preset), [])
    assert cfg.agent.model_dump()["memory"]["embedder"]["type"] == "openai"
    work = _workdir(tmp_path)
    with ScriptedLLMServer([]) as server:
        run(
            f".venv/bin/robomem eval --config {preset} --run-dir run",
            work,
            extra=(*SHORT, f"agent.memory.embedder.base_url={server.base_url}", "eval.episodes=1"),
        )
        assert any(r.endpoint == "embeddings" for r in server.requests)
    assert (work / "run" / "llm_usage.json").is_file()


def check_eb_vllm(tmp_path: Path) -> None:
    """The paper preset against vLLM: the two `vllm serve` lines serve what the `robomem eval` line asks for
    (models and ports), and that line runs, cut to one short episode, against stand-ins on 127.0.0.1: the
    scripted OpenAI-compatible server for both vLLM servers (chat and `/v1/embeddings`), and
    `python -m envs.bridge.household_server` for EmbodiedBench's bridge server (as tests/envs/bridge does)."""
    from robomem.testing.role_replies import PAPER_ROLES, paper_rules
    from robomem.testing.scripted_llm import ScriptedLLMServer
    from tests.envs.bridge.conftest import household_command, server_process

    lines = commands(block("vllm serve Qwen/Qwen2.5-VL-72B-Instruct"))
    assert len(lines) == 3, lines
    served = {}
    for line in lines[:2]:
        argv = [a for a in shlex.split(line) if "=" not in a or a.startswith("-")]  # env assignments dropped
        assert argv[:2] == ["vllm", "serve"], line
        served[argv[argv.index("--port") + 1]] = argv[2]
    eval_line = lines[2]
    argv = shlex.split(eval_line)[1:]
    args, extra = build_parser().parse_known_args(argv)
    cfg = load_config(str(ROOT / args.config), overrides_from_args(args, extra)).model_dump()
    llm, embedder = cfg["agent"]["llm"], cfg["agent"]["memory"]["embedder"]
    # What the eval line asks for is what the vllm lines serve.
    for url, model in ((llm["base_url"], llm["model"]), (embedder["base_url"], embedder["model"])):
        port = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/v1", url)
        assert port is not None and served.get(port.group(1)) == model, (url, model, served)
    assert cfg["env"]["type"] == "eb_bridge" and embedder["type"] == "openai"
    assert cfg["agent"]["memory"]["episodic"]["creator"] == "llm"  # the paper preset
    assert not cfg["eval"]["subsets"] and cfg["eval"]["episodes"] is None  # all 300 episodes
    work = _workdir(tmp_path)
    with (
        server_process(household_command("--max-steps", "4"), tmp_path / "bridge.log") as bridge,
        ScriptedLLMServer(paper_rules()) as vllm,
    ):
        line = eval_line.replace(llm["base_url"], vllm.base_url).replace(embedder["base_url"], vllm.base_url)
        cut = (
            "eval.subsets=[base]",
            "eval.episodes=1",
            "--no-progress",
            "--run-dir",
            "run",
        )
        run(line, work, extra=(f"env.port={bridge.port}", *cut))
        models = {(r.endpoint, (r.body or {}).get("model")) for r in vllm.requests}
    assert models == {("chat", llm["model"]), ("embeddings", embedder["model"])}
    usage = json.loads((work / "run" / "llm_usage.json").read_text(encoding="utf-8"))["roles"]
    assert set(PAPER_ROLES) - {"critic", "memory.temporal"} <= set(usage)  # 4 steps: one plan, no compression
    assert usage["embeddings"]["calls"] > 0
    assert all(stats["deterministic_fallbacks"] == 0 for stats in usage.values())
    assert (work / "run" / "base" / "results" / "episode_1_final_res.json").is_file()


def check_docker(tmp_path: Path) -> None:
    lines = commands(block("docker compose"))
    assert all(line.startswith("docker compose -f deploy/compose.yaml") for line in lines)
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if shutil.which("docker") is None or compose.returncode != 0:
        pytest.skip("no Docker Compose v2 here (tests/deploy runs the compose setup's processes natively)")
    subprocess.run(["docker", "compose", "-f", "deploy/compose.yaml", "config"], cwd=ROOT, check=True)


CHECKS: dict[str, Callable[[Path], None]] = {
    "make demo": check_quick_start,
    "steps 7.7": check_quick_start,
    "build_graph()": check_architecture,
    "memory_update (4 stores in parallel)": check_loop,
    "robomem memory show": check_memory_commands,
    "robomem report runs/": check_report_commands,
    "class GreedyFinder": check_own_planner,
    '[project.entry-points."robomem.planners"]': check_own_planner,
    "pip install ./examples/robomem_example_plugins": check_own_environment,
    '[project.entry-points."robomem.envs"]': check_own_environment,
    "configs/eb_alfred.yaml --subset base": check_evaluation,
    "robomem.evaluate(": check_python_api,
    "--workers 2": check_evaluation_at_scale,
    ".venv/bin/python -m envs.ros.sim_server": check_ros,
    "envs/bridge/server.py --backend": skip_eb_bridge,
    "docker compose": check_docker,
    "type: openai\n": check_embedder_config,
    "vllm serve Qwen/Qwen2.5-VL-72B-Instruct": check_eb_vllm,
}


def _name(check: object) -> str:
    return str(getattr(check, "__name__", check))


def test_every_block_is_checked() -> None:
    for lang, text in blocks():
        claimed = [marker for marker in CHECKS if marker in text]
        assert len(claimed) == 1, f"README block ({lang or 'plain'}) checked by {claimed}:\n{text[:300]}"


@pytest.mark.parametrize("check", sorted(set(CHECKS.values()), key=_name), ids=_name)
def test_readme_block(check: Callable[[Path], None], tmp_path: Path) -> None:
    check(tmp_path)


def test_inline_commands_parse_and_resolve() -> None:
    """`robomem ...` commands quoted in the prose: their flags exist and their config resolves."""
    text = README.read_text(encoding="utf-8")
    inline = re.findall(r"`((?:\.venv/bin/)?robomem (?:eval|memory|suites) [^`]*)`", text)
    assert len(inline) >= 5
    for line in inline:
        argv = shlex.split(line.replace("runs/<run>", "runs/x").replace("<run>", "x"))[1:]
        if "..." in argv or argv in (["memory", "show"], ["memory", "wipe"]):
            continue  # a command named or elided in a sentence, not one to copy
        args, extra = build_parser().parse_known_args(argv)
        if argv[0] == "eval" and not args.resume:
            load_config(args.config and str(ROOT / args.config), overrides_from_args(args, extra))
