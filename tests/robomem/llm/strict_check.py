"""An independent checker of OpenAI strict-mode schemas, used by the tests (it shares no code with
robomem.llm.strict, which rewrites schemas: a bug there must not hide here).

The rules are the strictest common subset of strict structured output: the root is an object (not an
``anyOf``); every object lists every property in ``required`` and sets ``additionalProperties: false``; only
structural keywords appear (no ``minLength``, ``pattern``, ``minItems``, ``format``, ``default`` ...); types
are JSON types; at most 5 levels of nesting and 100 properties in all.
"""

from __future__ import annotations

from typing import Any

ALLOWED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "description",
    "title",
    "$defs",
    "$ref",
}
TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
MAX_DEPTH = 5
MAX_PROPERTIES = 100


def strict_problems(schema: dict[str, Any]) -> list[str]:
    """Every way ``schema`` breaks strict mode (empty: valid)."""
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("$: the root must be a plain object schema")
    counted = [0]
    _walk(schema, "$", 0, problems, counted)
    if counted[0] > MAX_PROPERTIES:
        problems.append(f"$: {counted[0]} properties (at most {MAX_PROPERTIES})")
    return problems


def _walk(node: Any, path: str, depth: int, problems: list[str], counted: list[int]) -> None:
    if not isinstance(node, dict):
        problems.append(f"{path}: not a schema object")
        return
    for key in node:
        if key not in ALLOWED:
            problems.append(f"{path}: unsupported keyword {key!r}")
    kinds = node.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds is not None else []
    for kind in kinds:
        if kind not in TYPES:
            problems.append(f"{path}: unknown type {kind!r}")
    if "type" not in node and not any(k in node for k in ("anyOf", "$ref", "enum", "const")):
        problems.append(f"{path}: no type")
    if "object" in kinds or "properties" in node:
        if depth >= MAX_DEPTH:
            problems.append(f"{path}: nested deeper than {MAX_DEPTH} levels")
        properties = node.get("properties")
        if not isinstance(properties, dict):
            problems.append(f"{path}: an object needs properties")
            properties = {}
        counted[0] += len(properties)
        if node.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties must be false")
        required = node.get("required")
        if not isinstance(required, list) or set(required) != set(properties):
            missing = sorted(set(properties) - set(required or []))
            problems.append(f"{path}: every property must be required (missing: {missing})")
        for name, sub in properties.items():
            _walk(sub, f"{path}.{name}", depth + 1, problems, counted)
    if "items" in node:
        _walk(node["items"], f"{path}[]", depth, problems, counted)
    for index, sub in enumerate(node.get("anyOf") or []):
        _walk(sub, f"{path}|{index}", depth, problems, counted)
    if "enum" in node:
        values = node["enum"]
        if not isinstance(values, list) or not values:
            problems.append(f"{path}: enum must be a non-empty list")
        elif None in values and "null" not in kinds and kinds:
            problems.append(f"{path}: enum allows null but the type does not")
        elif "null" in kinds and "enum" in node and None not in values:
            problems.append(f"{path}: the type allows null but the enum does not")
