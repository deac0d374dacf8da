from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robomem.llm.jsonparse import parse_json_object

PLAN = {
    "plan": [
        {"action_id": 1, "action_name": "find a mug"},
        {"action_id": 2, "action_name": "pick up the mug"},
    ]
}
PLAN_TEXT = json.dumps(PLAN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("{}", {}),
        ('  \n{"a": {"b": [1, {"c": null}]}}\n', {"a": {"b": [1, {"c": None}]}}),
        (f"Here you go: {PLAN_TEXT} Hope this helps {{really}}.", PLAN),
        (f"```json\n{PLAN_TEXT}\n```", PLAN),
        (f"```JSON\n{PLAN_TEXT}```", PLAN),
        (f"Sure!\n```\n{PLAN_TEXT}\n```\nDone.", PLAN),
        (f'<think>Maybe {{"a": 0}}? No.</think>{PLAN_TEXT}', PLAN),
        (f"<THINK>\nlong thought\n</THINK>\n```json\n{PLAN_TEXT}\n```", PLAN),
        # Servers that keep the opening tag in the template return only the closing one.
        (f'first idea {{"a": 0}}</think>\n{PLAN_TEXT}', PLAN),
        # A fenced snippet that is not JSON does not hide the object after it.
        (f"```python\nprint('x')\n```\nAnswer: {PLAN_TEXT}", PLAN),
        # Braces in prose are skipped, balanced or not.
        (f"Format: {{action}} then {{ note: {PLAN_TEXT}", PLAN),
        ('{"s": "a } inside a string { and \\" quote"}', {"s": 'a } inside a string { and " quote'}),
        ('{"a": [1, 2,], "b": 3,}', {"a": [1, 2], "b": 3}),
        ('{"s": ",}"}', {"s": ",}"}),
        ('{"text": "line one\nline two"}', {"text": "line one\nline two"}),
        ('{"a": 1} {"b": 2}', {"a": 1}),
        ('{"a": tru} {"b": 2}', {"b": 2}),
        # A byte-order mark, before the object or before its fence.
        ('\ufeff{"a": 1}', {"a": 1}),
        ('\ufeff```json\n{"a": 1}\n```', {"a": 1}),
        # Python-style objects (what EB's wrappers for Qwen2-VL-72B and InternVL repair).
        ("{'a': 1}", {"a": 1}),
        ("{'ok': True, 'why': None, 'no': False,}", {"ok": True, "why": None, "no": False}),
        (
            "{'s': \"the robot's plan\", 't': 'the robot's plan'}",
            {"s": "the robot's plan", "t": "the robot's plan"},
        ),
        ("{'s': 'say \"hi\"', 'e': 'it\\'s', 'n': 'a\\nb'}", {"s": 'say "hi"', "e": "it's", "n": "a\nb"}),
        ("{'words': 'Nonesuch x.True TrueNorth'}", {"words": "Nonesuch x.True TrueNorth"}),
        ("Plan: {'plan': [{'action_id': 1, 'action_name': 'find a mug'}]} ok", {"plan": [PLAN["plan"][0]]}),
    ],
)
def test_extracts_the_first_top_level_object(text: str, expected: dict[str, Any]) -> None:
    assert parse_json_object(text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no JSON object in the reply"),
        ("I would pick up the mug.", "no JSON object in the reply"),
        ("[1, 2, 3]", "no JSON object in the reply"),
        ("use {braces} like this", "no JSON object in the reply"),
        ('<think>thinking forever {"a": 1}', "no JSON object in the reply"),
        # Truncated: the complete nested steps must not be passed off as the answer.
        (PLAN_TEXT[:-40], "malformed JSON (truncated)"),
        ('```json\n{"plan": [{"action_id": 1}, {"act', "malformed JSON (truncated)"),
        ('{"a": 1, "b": tru, "c": {"d": 1}}', "malformed JSON (invalid)"),
    ],
)
def test_reports_why_there_is_no_object(text: str, reason: str) -> None:
    assert parse_json_object(text) == (None, reason)


# Known limitation: strings containing "</think>" or a code fence are cut by the stripping, so the
# generated strings leave out "<" and "`".
strings = st.text(alphabet=st.characters(exclude_characters="<`"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=20,
)
prose = st.text(alphabet=st.characters(exclude_characters="{}`<>"), max_size=40)


@given(obj=st.dictionaries(strings, json_values, max_size=5), before=prose, after=prose, fenced=st.booleans())
def test_any_object_round_trips_through_prose_and_fences(
    obj: dict[str, Any], before: str, after: str, fenced: bool
) -> None:
    body = json.dumps(obj, indent=None if fenced else 1)
    text = f"{before}\n```json\n{body}\n```\n{after}" if fenced else f"{before} {body} {after}"
    assert parse_json_object(text) == (obj, None)


@given(obj=st.dictionaries(strings, json_values, min_size=1, max_size=5), cut=st.integers(min_value=1))
def test_a_truncated_object_never_parses_as_a_fragment(obj: dict[str, Any], cut: int) -> None:
    body = json.dumps(obj)
    truncated = body[: max(1, len(body) - 1 - cut % (len(body) - 1))]
    data, reason = parse_json_object(truncated)
    assert data is None
    assert reason is not None


# Python's repr of objects whose strings hold no brackets or double quotes (the extent of an object is
# found by a JSON-string-aware scan, which does not know single-quoted strings).
# Printable characters only: repr escapes the others as \\x.. or \\U........, which are not JSON.
py_strings = st.text(
    alphabet=st.characters(
        categories=("L", "N", "P", "S"), include_characters=" ", exclude_characters='{}[]"<`\\'
    )
)
py_values = st.recursive(
    st.none() | st.booleans() | st.integers() | py_strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(py_strings, inner, max_size=4),
    max_leaves=20,
)


@given(obj=st.dictionaries(py_strings, py_values, max_size=5))
def test_python_style_objects_round_trip(obj: dict[str, Any]) -> None:
    assert parse_json_object(str(obj)) == (obj, None)


@given(st.text(max_size=200))
def test_never_raises(text: str) -> None:
    data, reason = parse_json_object(text)
    assert (data is None) != (reason is None)
