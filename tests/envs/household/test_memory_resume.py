"""``kill -9`` in the middle of a ``return`` task ("put the red mug back where it was before you used it"),
then ``robomem eval --resume``: the same results and the same memory as an uninterrupted run.

What is at stake: where "back" is (``World.taken_from``) and which things this episode already picked up
(``World.picked_this_episode``) are simulator state that no file holds. A resumed run rebuilds the house by
replaying the logged actions of the finished episodes and the checkpointed history of the unfinished one, so
both come back as they were; killed after the task's own pick-up, a resume that lost them would bind "back"
elsewhere or record the surface it was taken from as its place."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from robomem.testing.scripted_llm import ScriptedLLMServer
from tests.robomem.agents import resume_helpers as rh

SEQUENCE = ("env.suite=memory_v3", "eval.mode=lifelong", "eval.subsets=[return]", "eval.episodes=1")


def _steps(run_dir: Path, subset: str, n: int) -> list[str]:
    log = run_dir / subset / "steps" / f"episode_{n}_steps.json"
    return [str(s["action"]) for s in json.loads(log.read_text(encoding="utf-8"))]


def test_a_kill_after_the_pick_up_in_a_return_task_resumes_to_the_same_run(tmp_path: Path) -> None:
    switch = rh.KillSwitch()
    with ScriptedLLMServer(default_reply=switch.reply) as server:
        reference = tmp_path / "reference" / "run"
        rh.run(rh.eval_command(reference, server.base_url, *SEQUENCE), switch)
        first_return = _steps(reference, "return", 1)
        picked = next(i for i, a in enumerate(first_return, start=1) if a.startswith("pick up"))
        assert picked < len(first_return), "the pick-up is not the task's last step"
        # The thalamus is asked about step 0 and after every action: kill on the request after the pick-up.
        before = sum(len(_steps(reference, "return_setup", n)) + 1 for n in (1, 2))
        trigger = rh.Trigger(nth=before + picked + 1, roles=frozenset({"thalamus.summary"}))
        killed = tmp_path / "interrupted" / "run"
        code = rh.run(rh.eval_command(killed, server.base_url, *SEQUENCE), switch, trigger)
        assert switch.fired and code == -signal.SIGKILL
        assert not (killed / "return" / "results" / "episode_1_final_res.json").exists()
        rh.run(rh.resume_command(killed), switch)
    assert json.loads((reference / "return" / "results" / "episode_1_final_res.json").read_text())[
        "task_success"
    ]
    assert rh.results(killed) == rh.results(reference)
    mine, theirs = rh.memory(killed / "memory"), rh.memory(reference / "memory")
    assert mine == theirs, rh.first_difference(mine, theirs)
