from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from envs.base import Env, EnvCapabilities, Observation
from envs.task import LifelongSequence, Task
from robomem.agents.base import Agent, EpisodeStats
from robomem.config import Config, load_config
from robomem.errors import ConfigError, EnvTimeoutError
from robomem.eval import EB_KEYS, EXTRA_KEYS, evaluate, format_table, wilson_interval
from robomem.eval.harness import RecordingEnv
from tests.robomem.scripted_env import (
    DEFAULT_SCRIPTS,
    SKILLS,
    ScriptedAgent,
    ScriptedTestConfig,
    ScriptedTestEnv,
    make_task,
    registered_test_env,
)


def _config(*overrides: str) -> Config:
    with registered_test_env():
        return load_config(None, ["env.type=scripted_test", "run.name=test", *overrides])


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _episode(run_dir: Path, subset: str, n: int) -> dict[str, Any]:
    data: dict[str, Any] = _read(run_dir / subset / "results" / f"episode_{n}_final_res.json")
    return data


@pytest.fixture
def episodic_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Any, ScriptedAgent]:
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "run"
    agent = ScriptedAgent(DEFAULT_SCRIPTS, planner_output_error=1)
    summary = evaluate(_config(), ScriptedTestEnv(), agent, run_dir, progress=False, stream=io.StringIO())
    return run_dir, summary, agent


def test_result_files_have_eb_keys_then_extras_in_order(
    episodic_run: tuple[Path, Any, ScriptedAgent],
) -> None:
    run_dir, _, _ = episodic_run
    for subset, n in (("base", 1), ("base", 2), ("base", 3), ("spatial", 1)):
        assert list(_episode(run_dir, subset, n)) == [*EB_KEYS, *EXTRA_KEYS]
    assert list(_episode(run_dir, "spatial", 2)) == [*EB_KEYS, *EXTRA_KEYS, "error"]


def test_result_files_hold_measured_counts(episodic_run: tuple[Path, Any, ScriptedAgent]) -> None:
    run_dir, _, agent = episodic_run
    first = _episode(run_dir, "base", 1)
    assert first["instruction"] == "do base_1"
    assert (first["task_success"], first["task_progress"], first["num_steps"]) == (1.0, 1.0, 2)
    assert (first["planner_steps"], first["planner_output_error"], first["empty_plan"]) == (1, 1, False)
    assert (first["task_id"], first["subset"], first["task_type"], first["scene"]) == (
        "base_1",
        "base",
        "simple",
        "house_1",
    )
    assert first["gold_plan_length"] == 2
    # The script has five actions but the env ends the episode at max_steps=4; the harness counts four.
    second = _episode(run_dir, "base", 2)
    assert (second["task_success"], second["task_progress"], second["num_steps"]) == (0.0, 0.5, 4)
    assert (second["num_invalid_actions"], second["num_invalid_action_ratio"]) == (1, 0.25)
    third = _episode(run_dir, "base", 3)
    assert (third["empty_plan"], third["num_steps"], third["task_success"], third["task_progress"]) == (
        True,
        0,
        0.0,
        0.0,
    )
    spatial = _episode(run_dir, "spatial", 1)
    assert spatial["num_invalid_action_ratio"] == pytest.approx(1 / 3)
    assert agent.events == ["begin", "end"]


def test_env_adapter_error_is_a_failed_episode_and_the_run_goes_on(
    episodic_run: tuple[Path, Any, ScriptedAgent],
) -> None:
    run_dir, summary, _ = episodic_run
    boom = _episode(run_dir, "spatial", 2)
    assert boom["task_success"] == 0.0
    assert boom["error"] == "EnvConnectionError: test server went away"
    assert summary.subsets["spatial"].errors == 1
    assert summary.overall.n == 5


def test_summaries_per_subset_and_run(episodic_run: tuple[Path, Any, ScriptedAgent]) -> None:
    run_dir, summary, _ = episodic_run
    base = _read(run_dir / "base" / "results" / "summary.json")
    assert (base["n"], base["successes"]) == (3, 1)
    assert base["sr"] == pytest.approx(1 / 3)
    assert base["sr_ci"] == pytest.approx(list(wilson_interval(1, 3)))
    assert base["gc"] == pytest.approx(0.5)  # (1 + 0.5 + 0) / 3
    # Progress 1, 0.5, 0 plus 1.9208 pseudo-episodes at 0 and at 1: ñ = 6.8416, mean 0.5,
    # spread 0.5 + 0.9604, half = 1.96 * sqrt(1.4604) / 6.8416 = 0.346205.
    assert base["gc_ci"] == pytest.approx([0.153795, 0.846205], abs=1e-6)
    assert base["mean_steps"] == pytest.approx(2.0)
    assert base["invalid_action_ratio"] == pytest.approx(0.25 / 3)
    top = _read(run_dir / "summary.json")
    assert top["mode"] == "episodic"
    assert list(top["subsets"]) == ["base", "spatial"]
    assert top["subsets"]["base"] == base
    assert (top["overall"]["n"], top["overall"]["successes"]) == (5, 2)
    assert summary.overall.sr == pytest.approx(0.4)


def test_nothing_is_written_outside_the_run_dir(episodic_run: tuple[Path, Any, ScriptedAgent]) -> None:
    run_dir, _, _ = episodic_run
    assert [p.name for p in run_dir.parent.iterdir()] == ["run"]
    written = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file())
    assert written == [
        "base/results/episode_1_final_res.json",
        "base/results/episode_2_final_res.json",
        "base/results/episode_3_final_res.json",
        "base/results/summary.json",
        "base/steps/episode_1_steps.json",
        "base/steps/episode_2_steps.json",
        "base/steps/episode_3_steps.json",
        "spatial/results/episode_1_final_res.json",
        "spatial/results/episode_2_final_res.json",
        "spatial/results/summary.json",
        "spatial/steps/episode_1_steps.json",
        "spatial/steps/episode_2_steps.json",
        "summary.json",
    ]


def test_subset_and_episode_selection(tmp_path: Path) -> None:
    env = ScriptedTestEnv()
    cfg = _config("eval.subsets=[spatial]", "eval.episodes=1")
    summary = evaluate(cfg, env, ScriptedAgent(DEFAULT_SCRIPTS), tmp_path / "run", progress=False)
    assert list(summary.subsets) == ["spatial"]
    assert summary.overall.n == 1
    assert [c[1] for c in env.calls if c[0] == "reset"] == ["spatial_1"]


def test_unknown_subset_fails_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^eval\.subsets: unknown subset 'nope'; available: base, spatial$"
    ):
        evaluate(_config("eval.subsets=[nope]"), ScriptedTestEnv(), ScriptedAgent({}), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_other_exceptions_propagate(tmp_path: Path) -> None:
    class BrokenAgent(Agent):
        def run_episode(
            self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
        ) -> EpisodeStats:
            raise KeyError("agent bug")

    with pytest.raises(KeyError, match="agent bug"):
        evaluate(_config(), ScriptedTestEnv(), BrokenAgent(), tmp_path / "run", progress=False)


def test_stepping_after_done_is_an_agent_bug() -> None:
    recorder = RecordingEnv(ScriptedTestEnv())
    recorder.reset(make_task("t", "base", need=1))
    assert recorder.step("advance").done
    with pytest.raises(RuntimeError, match="after the episode was done"):
        recorder.step("advance")
    assert recorder.num_steps == 1


def test_agent_reset_does_not_hide_steps() -> None:
    recorder = RecordingEnv(ScriptedTestEnv())
    task = make_task("t", "base", need=3)
    recorder.reset(task)
    recorder.step("fumble")
    recorder.reset(task)  # an agent "starting over" mid-episode
    recorder.step("wait")
    assert (recorder.num_steps, recorder.num_invalid_actions) == (2, 1)


def test_a_timed_out_skill_is_a_failed_step() -> None:
    recorder = RecordingEnv(ScriptedTestEnv(ScriptedTestConfig(max_steps=3)))
    recorder.reset(make_task("slow_1", "base", need=5))
    with pytest.raises(EnvTimeoutError) as first:
        recorder.step(SKILLS.index("wait"), timeout_s=2.0)
    assert not first.value.done
    assert recorder.step("advance").info["env_step"] == 2
    with pytest.raises(EnvTimeoutError) as last:
        recorder.step("wait", timeout_s=2.0)
    assert last.value.done  # the env's step limit
    assert (recorder.num_steps, recorder.num_invalid_actions, recorder.done) == (3, 2, True)
    assert recorder.steps[0] == {
        "action": "wait",
        "feedback": "skill 'wait' did not finish within 2.0 s",
        "success": False,
        "step": 1,
    }
    assert [entry["step"] for entry in recorder.steps] == [1, 2, 3]


def _sequences() -> tuple[LifelongSequence, ...]:
    seq_a = LifelongSequence(
        sequence_id="seq_a",
        profile="test",
        scene="house_1",
        tasks=(make_task("a1", "base"), make_task("a2", "spatial")),
        perturb_k=2,
        perturb_seed=7,
    )
    seq_b = LifelongSequence(
        sequence_id="seq_b", profile="test", scene="house_1", tasks=(make_task("b1", "base"),)
    )
    return seq_a, seq_b


def _lifelong_run(tmp_path: Path, *overrides: str) -> tuple[ScriptedTestEnv, Any, Path]:
    env = ScriptedTestEnv(sequences=_sequences())
    cfg = _config("eval.mode=lifelong", "eval.lifelong_repeats=2", *overrides)
    scripts = {"a1": ("advance", "advance"), "a2": ("wait",), "b1": ("advance", "advance")}
    run_dir = tmp_path / "run"
    return env, evaluate(cfg, env, ScriptedAgent(scripts), run_dir, progress=False), run_dir


def test_lifelong_keeps_the_world_and_perturbs_between_tasks(tmp_path: Path) -> None:
    env, _, _ = _lifelong_run(tmp_path)
    resets_and_perturbs = [c for c in env.calls if c[0] != "step"]
    # The first task of every attempt restores the house; later tasks keep it, after a perturbation.
    shape = [(c[0], c[1], c[2]) if c[0] == "reset" else ("perturb", c[1]) for c in resets_and_perturbs]
    assert shape == [
        ("reset", "a1", False),
        ("perturb", 2),
        ("reset", "a2", True),
        ("reset", "a1", False),
        ("perturb", 2),
        ("reset", "a2", True),
        ("reset", "b1", False),  # perturb_k 0: nobody moves anything
        ("reset", "b1", False),
    ]
    seeds = [c[2] for c in env.calls if c[0] == "perturb"]
    assert len(set(seeds)) == 2
    again, _, _ = _lifelong_run(tmp_path / "again")
    assert [c[2] for c in again.calls if c[0] == "perturb"] == seeds  # reruns repeat
    other, _, _ = _lifelong_run(tmp_path / "other", "eval.seed=1")
    assert [c[2] for c in other.calls if c[0] == "perturb"] != seeds


def test_lifelong_results_are_tagged_with_attempts(tmp_path: Path) -> None:
    _, summary, run_dir = _lifelong_run(tmp_path)
    base = [_episode(run_dir, "base", n) for n in range(1, 5)]
    assert [(r["task_id"], r["attempt"], r["sequence_id"], r["sequence_position"]) for r in base] == [
        ("a1", 1, "seq_a", 1),
        ("a1", 2, "seq_a", 1),
        ("b1", 1, "seq_b", 1),
        ("b1", 2, "seq_b", 1),
    ]
    # First tasks of an attempt start in a restored house: nobody moved anything before them.
    assert all("perturbations" not in r for r in base)
    spatial = [_episode(run_dir, "spatial", n) for n in (1, 2)]
    assert [r["perturbations"] for r in spatial] == [["object_0 moved", "object_1 moved"]] * 2
    assert list(base[0]) == [*EB_KEYS, *EXTRA_KEYS, "attempt", "sequence_id", "sequence_position"]
    assert summary.mode == "lifelong"
    assert sorted(summary.by_attempt) == [1, 2]
    assert summary.by_attempt[1].n == 3
    assert (summary.subsets["base"].n, summary.subsets["spatial"].n) == (4, 2)


def test_lifelong_subset_filter_and_sequence_limit(tmp_path: Path) -> None:
    env, summary, _ = _lifelong_run(tmp_path, "eval.subsets=[spatial]", "eval.episodes=1")
    assert list(summary.subsets) == ["spatial"]
    # With a1 filtered out, a2 opens each attempt, so the house is restored both times.
    assert [c[1:] for c in env.calls if c[0] == "reset"] == [("a2", False), ("a2", False)]


def test_lifelong_subsets_are_the_sequences_own_labels(tmp_path: Path) -> None:
    seq = LifelongSequence(
        sequence_id="s", profile="test", scene="house_1", tasks=(make_task("l1", "lifelong"),)
    )
    env = ScriptedTestEnv(sequences=(seq,))
    summary = evaluate(_config("eval.mode=lifelong"), env, ScriptedAgent({}), tmp_path / "a", progress=False)
    assert list(summary.subsets) == ["lifelong"]
    assert (tmp_path / "a" / "lifelong" / "results" / "episode_1_final_res.json").is_file()
    with pytest.raises(ConfigError, match=r"^eval\.subsets: unknown subset 'base'; available: lifelong$"):
        evaluate(_config("eval.mode=lifelong", "eval.subsets=[base]"), env, ScriptedAgent({}), tmp_path / "b")


def test_lifelong_on_an_env_without_sequences_is_a_config_error(tmp_path: Path) -> None:
    class NoLifelong(ScriptedTestEnv):
        def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
            raise NotImplementedError

    for env in (NoLifelong(), ScriptedTestEnv(sequences=())):
        with pytest.raises(ConfigError, match=r"^eval\.mode: env \w+ has no lifelong sequences$"):
            evaluate(_config("eval.mode=lifelong"), env, ScriptedAgent({}), tmp_path / "run")
    assert not (tmp_path / "run").exists()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_tty_but_final_line_always(tmp_path: Path) -> None:
    cfg = _config()
    plain = io.StringIO()
    evaluate(cfg, ScriptedTestEnv(), ScriptedAgent(DEFAULT_SCRIPTS), tmp_path / "a", stream=plain)
    assert "\r" not in plain.getvalue()
    assert plain.getvalue().count("\n") == 1
    assert plain.getvalue().startswith("robomem: 5 episodes in ")
    tty = _Tty()
    evaluate(cfg, ScriptedTestEnv(), ScriptedAgent(DEFAULT_SCRIPTS), tmp_path / "b", stream=tty)
    assert "\r[" in tty.getvalue()
    assert "5/5" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    assert "robomem: 5 episodes" in tty.getvalue()
    off = _Tty()
    evaluate(
        cfg, ScriptedTestEnv(), ScriptedAgent(DEFAULT_SCRIPTS), tmp_path / "c", progress=False, stream=off
    )
    assert "\r" not in off.getvalue()
    assert off.getvalue().startswith("robomem: 5 episodes")


def test_format_table(episodic_run: tuple[Path, Any, ScriptedAgent]) -> None:
    _, summary, _ = episodic_run
    lines = format_table(summary).splitlines()
    # Wilson by hand: 1/3 -> [6.1, 79.2], 1/2 -> [9.5, 90.5], 2/5 -> [11.8, 76.9].
    assert lines[0].startswith("base     n=3  SR  33.3% [6.1, 79.2]  GC  50.0% [15.4, 84.6]")
    assert lines[1].startswith("spatial  n=2  SR  50.0% [9.5, 90.5]")
    assert lines[1].endswith("errors 1")
    assert lines[2].startswith("all      n=5  SR  40.0% [11.8, 76.9]")
    assert len(lines) == 3


def test_setup_tasks_go_with_the_subset_they_prepare(tmp_path: Path) -> None:
    tasks = (make_task("s1", "recall_setup"), make_task("r1", "recall"), make_task("o1", "other"))
    seq = LifelongSequence(sequence_id="s", profile="test", scene="house_1", tasks=tasks)
    env = ScriptedTestEnv(sequences=(seq,))
    cfg = _config("eval.mode=lifelong", "eval.subsets=[recall]")
    summary = evaluate(cfg, env, ScriptedAgent({}), tmp_path / "a", progress=False)
    assert list(summary.subsets) == ["recall", "recall_setup"]
    # The setup task still runs first, and the recall task continues its world.
    assert [c[1:] for c in env.calls if c[0] == "reset"] == [("s1", False), ("r1", True)]


def test_lifelong_follows_the_declared_capability(tmp_path: Path) -> None:
    seq = LifelongSequence(
        sequence_id="s", profile="test", scene="house_1", tasks=(make_task("l1", "lifelong"),)
    )

    class Undeclared(ScriptedTestEnv):
        def capabilities(self) -> EnvCapabilities:
            return super().capabilities().model_copy(update={"lifelong": False})

        def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
            raise AssertionError("an env that declares no lifelong sequences is not asked for them")

    assert ScriptedTestEnv(sequences=(seq,)).capabilities().lifelong
    with pytest.raises(ConfigError, match=r"^eval\.mode: env Undeclared has no lifelong sequences$"):
        evaluate(
            _config("eval.mode=lifelong"), Undeclared(sequences=(seq,)), ScriptedAgent({}), tmp_path / "r"
        )
