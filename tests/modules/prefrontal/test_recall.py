"""Long-term recall in the planner prompt: whole past episodes, compact, in rank order within a token budget,
with a count of what was left out — never a trajectory cut after its first steps."""

from __future__ import annotations

import re
from pathlib import Path

from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord, StoreResult
from modules.hippocampus.episodic import render_trajectory
from modules.hippocampus.factory import open_memory
from modules.prefrontal.prompting import memory_section
from modules.prefrontal.recall import estimate_tokens, pack_episodes, parse_trajectory, render_compact
from tests.modules.prefrontal.symbolic.loop import fast_memory

FAIL = "Last action is invalid. Robot is currently holding Mug. Put it down first; 3. then retry"


def _outcome(name: str, n: int, *, site: str = "house_1", fail_every: int = 0) -> EpisodeOutcome:
    steps = tuple(
        StepRecord(f"find a {name}_{i}", FAIL, False)
        if fail_every and i % fail_every == 0
        else StepRecord(f"find a {name}_{i}", "Last action executed successfully.", True)
        for i in range(1, n + 1)
    )
    context = EpisodeContext(site, f"run/{name}", f"Put the {name} away.", "pick_and_place_simple")
    return EpisodeOutcome(context, success=True, progress=1.0, steps=steps)


def test_the_episodic_item_text_parses_back_into_its_steps() -> None:
    outcome = _outcome("Mug", 12, fail_every=4)
    parsed = parse_trajectory(render_trajectory(outcome))
    assert parsed is not None
    assert parsed.task == "Put the Mug away." and parsed.site == "house_1"
    assert parsed.outcome == "success in 12 steps"
    # A "; 3. " inside a feedback string is not taken for a step boundary.
    assert parsed.steps == tuple(
        (s.action, None if s.success else s.feedback.removeprefix("Last action is invalid. "))
        for s in outcome.steps
    )


def test_long_episodes_reach_the_planner_whole_from_the_real_store(tmp_path: Path) -> None:
    # Five 25-step episodes in the real episodic store: its lines are cut at 600 characters (after 8-10
    # steps), so a prompt built from them would lose every demonstration's second half.
    memory = open_memory(fast_memory(("episodic",)), tmp_path / "memory")
    try:
        for name in ("Mug", "Cup", "Bowl", "Plate", "Pan"):
            outcome = _outcome(name, 25, fail_every=7)
            memory.begin_episode(outcome.context)
            memory.end_episode(outcome)
        result = memory.retrieve(["Put the Mug away."])["episodic"]
    finally:
        memory.close()
    assert len(result.lines) == 5 and all(len(line) <= 600 for line in result.lines)
    section = memory_section({"episodic": result}, 1500, recall_tokens=1200)
    shown = re.findall(r'^- "Put the (\w+) away\."', section, re.M)
    assert len(shown) >= 2
    for name in shown:
        assert f"find a {name}_25" in section  # the last step of every episode shown
        assert all(f"find a {name}_{i}" in section for i in range(1, 26))
    left_out = 5 - len(shown)
    if left_out:
        assert (
            f"({left_out} less similar past episode{'s' if left_out > 1 else ''} left out for length)"
            in section
        )
    assert estimate_tokens(section) <= 1200 + 10


def _result(*texts: str) -> StoreResult:
    return StoreResult("episodic", tuple(t[:50] for t in texts), [{"text": t, "score": 1.0} for t in texts])


def test_rank_order_is_kept_and_packing_stops_at_the_first_misfit() -> None:
    big, small = render_trajectory(_outcome("Big", 30)), render_trajectory(_outcome("Small", 2))
    text = pack_episodes(_result(small, big, small), budget_tokens=60)
    assert text.startswith('- "Put the Small away."')
    assert "Big" not in text
    # The lower-ranked small episode is not pulled ahead of the big one that did not fit.
    assert text.count('"Put the Small away."') == 1
    assert text.endswith("(2 less similar past episodes left out for length)")


def test_the_best_episode_is_always_shown_whole_even_over_budget() -> None:
    text = pack_episodes(_result(render_trajectory(_outcome("Big", 30))), budget_tokens=10)
    assert "find a Big_30" in text and "left out" not in text


def test_an_episode_is_compressed_before_it_is_left_out() -> None:
    outcome = _outcome("Mug", 3)
    repeated = EpisodeOutcome(
        outcome.context,
        success=False,
        progress=0.5,
        steps=(outcome.steps[0], *(StepRecord("pick up the Mug", FAIL, False),) * 6, outcome.steps[2]),
    )
    trajectory = parse_trajectory(render_trajectory(repeated))
    assert trajectory is not None
    full, compact = render_compact(trajectory), render_compact(trajectory, compress=True)
    assert "  2-7. pick up the Mug ✗×6: Robot is currently holding Mug." in compact
    assert "find a Mug_3" in compact and len(compact) < len(full)
    first = render_trajectory(_outcome("Cup", 2))
    budget = estimate_tokens(render_compact(parse_trajectory(first))) + estimate_tokens(compact)  # type: ignore[arg-type]
    text = pack_episodes(_result(first, render_trajectory(repeated)), budget_tokens=budget)
    assert "2-7. pick up the Mug ✗×6" in text and "left out" not in text


def test_items_in_another_form_are_shown_whole() -> None:
    written = "The robot looked in three cabinets; the mug was in the last one. " * 5
    text = pack_episodes(_result(written), budget_tokens=1000)
    assert text == "- " + " ".join(written.split())
    # Without structured data the store's lines are used, each still whole.
    lines = StoreResult("episodic", ("first episode", "second episode"))
    assert pack_episodes(lines, budget_tokens=1000) == "- first episode\n- second episode"


def test_a_shortened_reason_still_says_why() -> None:
    # ALFRED's first sentence only says that it failed; the second says why (a jammed drawer, which a
    # planner reading memory must not lose to compression).
    steps = (
        StepRecord("find a Drawer_10", "Last action executed successfully.", True),
        *(StepRecord("open the Drawer_10", JAMMED, False),) * 2,
    )
    outcome = _outcome("Mug", 1)
    jammed = EpisodeOutcome(outcome.context, success=False, progress=0.0, steps=steps)
    trajectory = parse_trajectory(render_trajectory(jammed))
    assert trajectory is not None
    compact = render_compact(trajectory, compress=True)
    assert (
        "2-3. open the Drawer_10 ✗×2: Open action failed. The Drawer_10 is jammed and does not open"
        in compact
    )
    held = EpisodeOutcome(outcome.context, False, 0.0, (StepRecord("pick up the Mug", FAIL, False),) * 2)
    again = parse_trajectory(render_trajectory(held))
    assert again is not None
    assert "✗×2: Robot is currently holding Mug." in render_compact(again, compress=True)


JAMMED = "Last action is invalid. Open action failed. The Drawer_10 is jammed and does not open"
