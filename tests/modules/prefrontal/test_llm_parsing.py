"""EmbodiedBench's plan parsing rules, on parsed replies (the server-level paths are in test_llm_planner)."""

from __future__ import annotations

from typing import Any

import pytest

from modules.prefrontal.parsing import PLAN_KEYS, parse_plan, plan_schema
from tests.modules.prefrontal.llm_helpers import SKILLS


def parse(entries: Any, **kwargs: Any) -> Any:
    return parse_plan({"executable_plan": entries}, SKILLS, max_len=kwargs.pop("max_len", 20), **kwargs)


def test_ids_as_digit_strings_and_whole_floats_are_ids() -> None:
    parsed = parse([{"action_id": "2", "action_name": "find a Fridge"}, {"action_id": 3.0}])
    assert parsed.actions == ("find a Fridge", "open the Fridge") and parsed.error is None


def test_an_id_alone_is_read_as_eb_reads_it() -> None:
    assert parse([{"action_id": 4}]).actions == ("put down the object in hand",)


@pytest.mark.parametrize(
    "entry",
    [{"action_id": True}, {"action_id": 1.5}, {"action_id": None}, "find a Apple", 3, {"action_name": "  "}],
    ids=["bool", "fraction", "null", "bare-string", "bare-int", "blank-name"],
)
def test_entries_that_name_no_action_are_invalid(entry: object) -> None:
    parsed = parse([entry])
    assert parsed.error is not None and parsed.error.startswith("first action:")


def test_names_match_loosely_but_unambiguously() -> None:
    assert parse([{"action_id": 9, "action_name": " Open  the fridge. "}]).actions == ("open the Fridge",)
    skills = ("find a apple", "find a Apple")
    ambiguous = parse_plan(
        {"executable_plan": [{"action_id": 7, "action_name": "FIND A APPLE"}]}, skills, max_len=5
    )
    assert ambiguous.error is not None
    # An exact match wins; among equal names the id breaks the tie.
    exact = parse_plan(
        {"executable_plan": [{"action_id": 7, "action_name": "find a Apple"}]}, skills, max_len=5
    )
    assert exact.actions == ("find a Apple",)
    hinted = parse_plan(
        {"executable_plan": [{"action_id": 0, "action_name": "FIND A APPLE"}]}, skills, max_len=5
    )
    assert hinted.actions == ("find a apple",)


def test_duplicate_skills_resolve_to_the_given_id() -> None:
    skills = ("find a Apple", "find a Apple", "pick up the Apple")
    entries = [{"action_id": 1, "action_name": "find a Apple"}]
    parsed = parse_plan({"executable_plan": entries}, skills, max_len=5)
    assert parsed.actions == ("find a Apple",) and parsed.notes == ()


def test_no_data_reports_the_clients_reason() -> None:
    assert parse_plan(None, SKILLS, max_len=5, json_error="malformed JSON (truncated)").error == (
        "malformed JSON (truncated)"
    )
    assert parse_plan(None, SKILLS, max_len=5).error == "no JSON object in the reply"


def test_only_executable_plan_is_needed_by_default() -> None:
    """EB reads nothing but ``executable_plan`` (issue #10, item 13)."""
    parsed = parse_plan({"executable_plan": [{"action_id": "0"}]}, SKILLS, max_len=5)
    assert parsed.actions == ("find a Apple",) and parsed.error is None and parsed.reasoning == ""
    parsed = parse_plan(
        {"language_plan": "find it", "executable_plan": [{"action_id": 0}]}, SKILLS, max_len=5
    )
    assert parsed.actions == ("find a Apple",) and parsed.reasoning == "Plan: find it"
    assert parse_plan({"language_plan": "find it"}, SKILLS, max_len=5).error == (
        "the JSON object lacks the keys executable_plan"
    )


def test_required_keys_are_checked_whatever_the_client() -> None:
    parsed = parse_plan({"executable_plan": []}, SKILLS, max_len=5, required=PLAN_KEYS)
    assert parsed.error is not None and "visual_state_description" in parsed.error


def test_an_empty_skill_list_makes_every_action_invalid_but_allows_the_empty_plan() -> None:
    assert parse_plan({"executable_plan": [{"action_id": 0}]}, (), max_len=5).error is not None
    assert parse_plan({"executable_plan": []}, (), max_len=5).empty


def test_schema_is_strict_mode_compatible() -> None:
    for visual in (True, False):
        schema = plan_schema(visual=visual)
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])
        item = schema["properties"]["executable_plan"]["items"]
        assert item["required"] == ["action_id", "action_name"] and item["additionalProperties"] is False
    assert list(plan_schema(visual=True)["properties"]) == list(PLAN_KEYS)
