from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from robomem.cli.eval import overrides_from_args
from robomem.cli.main import build_parser, main
from robomem.config import load_config
from robomem.errors import ErrorCode
from tests.robomem.scripted_env import registered_test_env
from tests.robomem.test_config import BAD_INPUTS, bad_input_args, matches


@pytest.fixture
def test_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The scripted test env registered, a preset using it, and the working directory in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    preset = tmp_path / "scripted.yaml"
    preset.write_text("env:\n  type: scripted_test\nagent:\n  type: random\n", encoding="utf-8")
    with registered_test_env():
        yield preset


def _one_error_line(err: str) -> str:
    """The message of the one error line, after ``robomem: error [<code>]: ``."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    tagged = re.match(r"robomem: error \[([a-z-]+)\]: ", lines[0])
    assert tagged is not None and tagged.group(1) in {code.value for code in ErrorCode}, lines[0]
    return lines[0][tagged.end() :]


def test_eval_end_to_end(test_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--config", str(test_env), "--run-dir", "out", "--no-progress", "--subset", "base"])
    assert code == 0
    out, err = capsys.readouterr()
    assert out.startswith("base  n=3  SR ")
    assert err.startswith("robomem: 3 episodes in ")
    run_dir = tmp_path / "out"
    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    assert config["run"] == {"dir": "out", "name": "scripted", "id": None}
    assert json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["run_id"].startswith("out~")
    assert config["env"] == {"type": "scripted_test", "max_steps": 4}
    assert config["eval"]["subsets"] == ["base"]
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["overall"]["n"] == 3
    assert (run_dir / "base" / "results" / "episode_3_final_res.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scripted.yaml"]


def test_auto_run_dirs_never_collide(test_env: Path, tmp_path: Path) -> None:
    for _ in range(2):
        assert main(["eval", "--config", str(test_env), "--episodes", "1", "--no-progress"]) == 0
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(runs) == 2
    assert all(name.endswith(("_scripted", "_scripted_2")) for name in runs)


def test_flags_map_onto_config_keys() -> None:
    argv = ["eval", "--subset", "base", "--subset", "spatial", "--episodes", "2", "--seed", "7"]
    argv += ["--run-dir", "2024", "--lifelong", "--env.max_steps=9", "agent.type=random", "agent.seed=3"]
    args, extra = build_parser().parse_known_args(argv)
    cfg = load_config(None, overrides_from_args(args, extra))
    assert cfg.eval.subsets == ("base", "spatial")
    assert (cfg.eval.episodes, cfg.eval.seed, cfg.eval.mode) == (2, 7, "lifelong")
    assert cfg.run.dir == "2024"
    assert getattr(cfg.env, "max_steps", None) == 9
    assert getattr(cfg.agent, "seed", None) == 3


def test_explicit_override_beats_the_flag() -> None:
    args, extra = build_parser().parse_known_args(["eval", "--episodes", "2", "eval.episodes=5"])
    assert load_config(None, overrides_from_args(args, extra)).eval.episodes == 5


@pytest.mark.parametrize(("preset", "overrides", "message"), BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    preset: str | None,
    overrides: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = bad_input_args(tmp_path, preset)
    argv = ["eval", *(["--config", path] if path else []), *overrides]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert matches(_one_error_line(err), message.format(path=path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if path is None else ["bad.yaml"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "--episodes", "x"], "eval.episodes: Input should be a valid integer*"),
        (
            ["eval", "--config", "missing.yaml"],
            "cannot read config file 'missing.yaml': No such file or directory",
        ),
        (["eval", "stray"], "malformed override 'stray'; expected dotted.key=value"),
        (["eval", "--bogus"], "unrecognized argument '--bogus'; overrides look like dotted.key=value"),
        (["eval", "--subset", "nope", "env.type=scripted_test"], "eval.subsets: unknown subset 'nope'*"),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'*"),
        (["suites", "check", "--profile", "x"], "argument --profile: invalid choice: 'x'*"),
        ([], "the following arguments are required: COMMAND*"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    test_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert matches(_one_error_line(capsys.readouterr().err), message)
    assert not (tmp_path / "runs").exists()


def test_non_empty_explicit_run_dir_is_refused(
    test_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.json").write_text("{}", encoding="utf-8")
    assert main(["eval", "--config", str(test_env), "--run-dir", "out"]) == 2
    assert (
        _one_error_line(capsys.readouterr().err) == "run.dir: 'out' already exists and is not an empty folder"
    )


@pytest.mark.parametrize("argv", [["-m", "robomem", "eval", "env.max_steps=abc"], ["-m", "robomem", "nope"]])
def test_real_process_prints_no_traceback(tmp_path: Path, argv: list[str]) -> None:
    done = subprocess.run([sys.executable, *argv], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    line = _one_error_line(done.stderr)
    assert line.startswith(("env.max_steps: Input should be a valid integer", "argument COMMAND"))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def fake_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the suite generator: ``generate_suite`` and ``suite_path`` under ``tmp_path/suites``."""
    suites_dir = tmp_path / "suites"
    generate = types.ModuleType("envs.household.generate")
    generate.generate_suite = lambda profile: f'{{"profile": "{profile}", "text": "é"}}\n'  # type: ignore[attr-defined]
    generate.SUITE_VERSION = "v1"  # type: ignore[attr-defined]
    memory = types.ModuleType("envs.household.memory")
    memory.generate_memory_suite = lambda profile, version: f'{{"profile": "{profile}", "{version}": 1}}\n'  # type: ignore[attr-defined]
    memory.MEMORY_VERSIONS = {"memory_v1": (), "memory_v2": ()}  # type: ignore[attr-defined]
    suites = types.ModuleType("envs.household.suites")
    suites.suite_path = lambda profile, version="v1": suites_dir / f"{profile}_{version}.json"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "envs.household.generate", generate)
    monkeypatch.setitem(sys.modules, "envs.household.memory", memory)
    monkeypatch.setitem(sys.modules, "envs.household.suites", suites)
    return suites_dir


def test_suites_generate_then_check(fake_generator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites", "check"]) == 1
    assert "alfred_v1.json is missing" in capsys.readouterr().err
    assert main(["suites", "generate"]) == 0
    assert sorted(p.name for p in fake_generator.iterdir()) == [
        "alfred_memory_v1.json",
        "alfred_memory_v2.json",
        "alfred_v1.json",
        "habitat_memory_v1.json",
        "habitat_memory_v2.json",
        "habitat_v1.json",
    ]
    assert (fake_generator / "alfred_v1.json").read_bytes() == '{"profile": "alfred", "text": "é"}\n'.encode()
    assert (fake_generator / "alfred_memory_v1.json").read_text() == '{"profile": "alfred", "memory_v1": 1}\n'
    assert main(["suites", "check"]) == 0
    (fake_generator / "habitat_v1.json").write_bytes(b'{"profile": "habitat", "text": "\xc3\xa9"}\r\n')
    assert main(["suites", "check", "--profile", "alfred"]) == 0
    capsys.readouterr()
    assert main(["suites", "check"]) == 1
    assert "habitat_v1.json differs from the generator's output" in capsys.readouterr().err


def test_suites_out_dir(fake_generator: Path, tmp_path: Path) -> None:
    assert main(["suites", "generate", "--profile", "habitat", "--out", str(tmp_path / "elsewhere")]) == 0
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [
        "habitat_memory_v1.json",
        "habitat_memory_v2.json",
        "habitat_v1.json",
    ]
    assert not fake_generator.exists()
    assert main(["suites", "check", "--profile", "habitat", "--out", str(tmp_path / "elsewhere")]) == 0


def test_suites_without_generator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "envs.household.generate", None)
    assert main(["suites", "check"]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith(
        "the household suite generator is not available"
    )


def test_fresh_memory_refuses_a_folder_that_is_not_a_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue #10's command: --fresh-memory emptied any folder given as agent.memory.dir.
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "notes.txt").write_text("x\n", encoding="utf-8")
    demo = str(Path(__file__).resolve().parents[3] / "configs" / "demo.yaml")
    argv = ["eval", "--config", demo, "--subset", "base", "--episodes", "1", "--no-progress"]
    run_dir = tmp_path / "run"
    code = main([*argv, "--run-dir", str(run_dir), f"agent.memory.dir={folder}", "--fresh-memory"])
    assert code == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"agent.memory.dir: {str(folder)!r} is not a robomem memory directory (no valid manifest.json) "
        "and is not empty: refusing to wipe it (point it at a robomem memory, or at a new or empty folder)"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "x\n"
    assert not run_dir.exists()  # refused before the run started
