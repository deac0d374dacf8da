"""The deterministic thalamus: retrieval queries (a request wrapped in unrelated context is also asked about
on its own), and a step summary that claims nothing the perception does not report."""

from __future__ import annotations

import pytest

from envs.base import Observation, PerceivedEntity, Perception
from envs.task import Condition, Ref, Task
from modules.hippocampus.base import EpisodeContext
from modules.thalamus.deterministic import DeterministicThalamus, instruction_queries

REQUEST = "put a clean apple in the fridge"


@pytest.mark.parametrize(
    "wrapped",
    [
        f"Although there is a mug in the cabinet, {REQUEST}.",
        f"{REQUEST.capitalize()}. Don't worry about the mug in the cabinet; it can stay where it is.",
        f"My guests are coming over soon and the place is a bit of a mess. {REQUEST.capitalize()}.",
        f"I was going to tidy up the cabinet myself, but first things first: {REQUEST}.",
    ],
)
def test_the_request_is_a_query_of_its_own(wrapped: str) -> None:
    queries = instruction_queries(wrapped)
    assert queries[0] == wrapped
    assert f"{REQUEST.capitalize()}." in queries[1:]
    assert len(queries) <= 3


@pytest.mark.parametrize(
    "plain",
    [
        "Put a mug in the sink.",
        "Wash a mug, then put it in a drawer.",
        "Rinse off a ladle and move it to the table.",
    ],
)
def test_a_plain_instruction_is_one_query(plain: str) -> None:
    assert instruction_queries(plain) == [plain]


def _summary(perception: Perception) -> str:
    task = Task(task_id="t", profile="alfred", subset="s", task_type="custom", instruction=REQUEST, scene="h")
    observation = Observation(instruction=REQUEST, text="", perception=perception)
    context = EpisodeContext(site="h", episode_id="e", instruction=REQUEST)
    return DeterministicThalamus().perceive(context, task, 0, observation, None).summary.text


def test_the_summary_says_only_what_the_perception_reports() -> None:
    mug = PerceivedEntity(name="Mug", type="Mug", kind="object")
    full = Perception(location="Table", room="Kitchen", entities=(mug,))
    assert _summary(full).endswith("I am at Table in the Kitchen. I see Mug. My hand is empty.")
    # A robot that reports neither its room nor its hand: nothing about them, and no "in the None".
    partial = Perception(location="Table", entities=(mug,), unknown=("room", "holding"))
    assert _summary(partial).endswith("I am at Table. I see Mug.")


def test_a_described_goal_object_is_a_query_of_its_own() -> None:
    # "green bowl" finds the lesson about the green bowl before other bowls' ("bowl" alone ties them).
    text = "Move the green bowl to a shelf."
    goal = (Condition(object=Ref(type="bowl", attributes={"color": "green"}), inside=Ref(type="shelf")),)
    task = Task(
        task_id="t", profile="habitat", subset="s", task_type="custom", instruction=text, scene="h", goal=goal
    )
    observation = Observation(instruction=text, text="", perception=Perception(location="sofa"))
    context = EpisodeContext(site="h", episode_id="e", instruction=text)
    queries = DeterministicThalamus().perceive(context, task, 0, observation, None).queries
    assert queries[:4] == (text, "green bowl", "bowl", "shelf")


def test_the_summary_and_the_queries_name_everything_held() -> None:
    mug, spoon, bowl = (PerceivedEntity(name=n, type=n, kind="object") for n in ("Mug", "Spoon", "Bowl"))
    one = Perception(location="Table", room="Kitchen", holding="Mug", entities=(mug, bowl))
    assert _summary(one).endswith("I am at Table in the Kitchen. I see Bowl. I hold Mug.")  # as before
    both = Perception(location="Table", room="Kitchen", holding=("Mug", "Spoon"), entities=(mug, spoon, bowl))
    assert _summary(both).endswith("I am at Table in the Kitchen. I see Bowl. I hold Mug and Spoon.")
    task = Task(task_id="t", profile="alfred", subset="s", task_type="custom", instruction=REQUEST, scene="h")
    context = EpisodeContext(site="h", episode_id="e", instruction=REQUEST)
    observation = Observation(instruction=REQUEST, text="", perception=both)
    queries = DeterministicThalamus().perceive(context, task, 0, observation, None).queries
    assert {"Mug", "Spoon"} <= set(queries)
