"""Tolerant JSON extraction from model output: strips ``<think>`` blocks and code fences, then takes the
first complete top-level JSON object in the text. Never raises: returns ``(None, reason)`` instead.

Forgiven, because models send them and they cannot mean anything else: a byte-order mark, prose around the
object, trailing commas, and Python-style objects (single-quoted strings, ``True``/``False``/``None``;
EmbodiedBench's wrappers for some models repair those too, by swapping every quote).

"Top-level" matters: in a truncated or invalid object, the nested objects are complete, and returning one
of them (say, the first step of a cut-off plan) would pass a fragment off as the answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ("parse_json_object",)

_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_THINK_END = re.compile(r"</think>", re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_OBJECT_START = re.compile(r"""\{\s*["'}]""")
_PY_WORD = re.compile(r"(?<![\w.])(True|False|None)\b")
_CLOSER = re.compile(r"\s*(?:[,:}\]]|\Z)")
_PY_JSON = {"True": "true", "False": "false", "None": "null"}

_NO_OBJECT = "no JSON object in the reply"
_TRUNCATED = "malformed JSON (truncated)"
_INVALID = "malformed JSON (invalid)"


def _strip_thinking(text: str) -> str:
    text = _THINK.sub("", text)
    # Some servers strip the opening tag (it was in the chat template) and leave only ``...</think>``.
    ends = list(_THINK_END.finditer(text))
    return text[ends[-1].end() :] if ends else text


def _extent(text: str, start: int) -> int | None:
    """End (exclusive) of the bracketed value opening at ``start``, string-aware; ``None``: never closed."""
    depth = 0
    in_string = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _without_trailing_commas(candidate: str) -> str:
    # Only outside strings: split on string literals and repair the code parts.
    parts = re.split(r'("(?:\\.|[^"\\])*")', candidate)
    return "".join(part if i % 2 else _TRAILING_COMMA.sub(r"\1", part) for i, part in enumerate(parts))


def _closes(text: str, index: int) -> bool:
    """Whether a quote just before ``index`` can close a string: a delimiter (or the end) follows."""
    return _CLOSER.match(text, index) is not None


def _from_python_style(candidate: str) -> str:
    """Single-quoted strings become JSON strings and Python's constants JSON's. A single quote closes a
    string only before a delimiter, so apostrophes inside words ("the robot's plan") stay text."""
    out: list[str] = []
    index, size = 0, len(candidate)
    while index < size:
        char = candidate[index]
        if char == '"':  # a JSON string: copied as is
            end = index + 1
            while end < size and candidate[end] != '"':
                end += 2 if candidate[end] == "\\" else 1
            out.append(candidate[index : end + 1])
            index = end + 1
        elif char == "'":
            text: list[str] = []
            index += 1
            while index < size and not (candidate[index] == "'" and _closes(candidate, index + 1)):
                char = candidate[index]
                if char == "\\" and index + 1 < size:
                    following = candidate[index + 1]
                    text.append("'" if following == "'" else char + following)
                    index += 2
                    continue
                text.append('\\"' if char == '"' else char)
                index += 1
            out.append('"' + "".join(text) + '"')
            index += 1
        elif (word := _PY_WORD.match(candidate, index)) is not None:
            out.append(_PY_JSON[word.group(1)])
            index = word.end()
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _first_object(text: str) -> tuple[dict[str, Any] | None, str]:
    reason = _NO_OBJECT
    start = text.find("{")
    while start >= 0:
        # A brace in prose ("{x}", "{ note") is no object; an object's first token is a key or its end.
        if not _OBJECT_START.match(text, start):
            start = text.find("{", start + 1)
            continue
        end = _extent(text, start)
        if end is None:
            # Everything from here on is inside this unclosed object: no later '{' is top-level.
            return None, _TRUNCATED
        candidate = text[start:end]
        repaired = _without_trailing_commas(candidate)
        for attempt in (candidate, repaired, _without_trailing_commas(_from_python_style(candidate))):
            try:
                value = json.loads(attempt, strict=False)  # raw newlines inside strings are common
            except ValueError:
                continue
            if isinstance(value, dict):
                return value, ""
        reason = _INVALID
        start = text.find("{", end)
    return None, reason


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(object, None)`` for the first top-level JSON object in ``text``, else ``(None, reason)``.

    Fenced blocks are tried first (in order), then the whole text, so a fenced snippet of code that is
    not JSON does not hide an object written outside it. Trailing commas are forgiven.
    """
    cleaned = _strip_thinking(text).replace("\ufeff", "").strip()  # a BOM is no text
    reasons: list[str] = []
    for chunk in [*(m.group(1) for m in _FENCE.finditer(cleaned)), cleaned]:
        data, reason = _first_object(chunk)
        if data is not None:
            return data, None
        reasons.append(reason)
    # Report the most informative failure: a broken object beats "nothing found".
    for reason in (_TRUNCATED, _INVALID):
        if reason in reasons:
            return None, reason
    return None, _NO_OBJECT
