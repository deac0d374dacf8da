"""The offline operations that read skill texts without a model refuse, with a message, a grammar they do not
know: an environment whose skill list is not EmbodiedBench's (TextWorld's admissible commands) used to get a
symbolic planner that quit at step 0 without a word, and rules that misread its actions."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.skill_language import EB_GRAMMAR, UnknownGrammarError
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome
from modules.hippocampus.lessons import DeterministicLessonCreator, StepFact
from modules.hippocampus.spatial import SpatialConfig, SpatialMemory
from modules.prefrontal.critic import DeterministicCritic
from modules.prefrontal.symbolic import SymbolicPlanner
from robomem.llm.stub import StubLLMClient
from robomem.testing.hashing import HashingEmbedder
from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, make_memory, perception
from tests.modules.prefrontal.llm_helpers import inp

TEXTWORLD = "textworld"


def test_the_symbolic_planner_refuses_an_unknown_grammar() -> None:
    with pytest.raises(UnknownGrammarError, match=r"^agent\.planner\.type: the symbolic planner reads only"):
        SymbolicPlanner().plan(inp(grammar=TEXTWORLD))


def test_the_deterministic_spatial_extractor_refuses_an_unknown_grammar(tmp_path: Path) -> None:
    memory = make_memory(tmp_path)
    try:
        driver = Driver(memory)
        driver.context = EpisodeContext(site="house", episode_id="ep-1", instruction="x", grammar=TEXTWORLD)
        with pytest.raises(UnknownGrammarError, match=r"deterministic spatial extractor.*'textworld'"):
            driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"))
    finally:
        memory.close()


def test_the_lesson_rules_refuse_an_unknown_grammar() -> None:
    facts = [StepFact("open the drawer 3", "Last action is invalid. It is jammed.", False, "drawer 3", None)]
    for grammar, refused in ((EB_GRAMMAR, False), (TEXTWORLD, True)):
        context = EpisodeContext(site="house_7", episode_id="e", instruction="x", grammar=grammar)
        outcome = EpisodeOutcome(context, success=False, progress=0.0, steps=())
        if refused:
            with pytest.raises(UnknownGrammarError, match=r"^agent\.memory\.semantic\.creator: "):
                DeterministicLessonCreator().create(outcome, facts)
        else:
            assert DeterministicLessonCreator().create(outcome, facts)


def test_the_deterministic_critic_refuses_an_unknown_grammar() -> None:
    """It used to let every action of an unknown grammar through, unchecked and without a word."""
    critic = DeterministicCritic()
    skills = ("take apple", "go north")
    other = inp(grammar=TEXTWORLD, skills=skills)
    refusal = r"^agent\.critic\.type: the deterministic critic reads only"
    for ask in (critic.review, critic.lasting):
        with pytest.raises(UnknownGrammarError, match=refusal):
            ask("take apple", ("go north",), other)
    # An EB grammar is read as before: an action outside the skill list is objected to.
    assert not critic.review("take apple", (), inp()).ok


def test_the_refusal_is_one_line_naming_the_grammar_and_what_to_choose_instead() -> None:
    with pytest.raises(UnknownGrammarError) as caught:
        DeterministicCritic().review("take apple", (), inp(grammar=TEXTWORLD, skills=("take apple",)))
    text = str(caught.value)
    assert "\n" not in text and "'textworld'" in text and "(choose the llm variant" in text


def test_the_spatial_fallback_keeps_to_the_perception_in_an_unknown_grammar(tmp_path: Path) -> None:
    """An unusable LLM extraction falls back on the rules; in a grammar they cannot read they used to read
    the action anyway (with EB's meanings). They now keep to the perception, which has no grammar."""
    client = StubLLMClient(lambda messages, role: "I cannot tell.", on_failure="fallback")
    config = SpatialConfig(extractor="llm")
    for grammar, inferred in ((EB_GRAMMAR, True), (TEXTWORLD, False)):
        memory = SpatialMemory(config, memory_dir=tmp_path / grammar, embedder=HashingEmbedder(), llm=client)
        try:
            driver = Driver(memory)
            driver.context = EpisodeContext(site="house", episode_id="e", instruction="x", grammar=grammar)
            driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"))
            blind = perception("Kitchen", furniture=KITCHEN, place="Sink").model_copy(
                update={"unknown": ("holding",)}
            )
            stats = driver.step(blind, action="pick up the Mug")
            assert stats.details["extract_fallback"] == 1
            graph = memory.graph("house")
            assert (graph.edge("I", "holding", "Mug") is not None) is inferred, grammar
            assert graph.edge("I", "at", "Sink") is not None  # the perception is read in any grammar
        finally:
            memory.close()
