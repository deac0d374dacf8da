"""JSON schemas in the form OpenAI's strict structured output accepts, and replies read back in the caller's.

Strict mode (``json_schema.strict: true``) demands that every object list all its properties as required and
set ``additionalProperties: false``, and it rejects validation keywords it does not implement. robomem's
schemas are written for the caller (optional keys, ``minLength``); :func:`strict_schema` rewrites one for the
wire: an optional property becomes required but nullable, unsupported keywords are dropped (the reply is
checked locally anyway). :func:`drop_optional_nulls` undoes the rewrite on the reply, so a caller sees an
optional key absent, as its own schema says, rather than ``null``.
"""

from __future__ import annotations

from typing import Any

__all__ = ("STRICT_KEYWORDS", "drop_optional_nulls", "strict_schema")

#: Keywords kept in a strict schema: structure and enumerations only. Others (``minLength``, ``pattern``,
#: ``minItems``, ``format``, ``default`` ...) are unsupported by some or all strict-mode implementations.
STRICT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf"}
    | {"description", "title", "$defs", "$ref"}
)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = list(kind) if isinstance(kind, list) else [kind]
    result = dict(schema)
    if "null" not in kinds:
        result["type"] = [*kinds, "null"]
    if "enum" in result and None not in result["enum"]:
        result["enum"] = [*result["enum"], None]
    return result


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` rewritten for strict mode (a new dict; ``schema`` is left alone)."""
    result = {key: value for key, value in schema.items() if key in STRICT_KEYWORDS}
    properties = schema.get("properties")
    if isinstance(properties, dict) or _is_object(schema):
        properties = properties if isinstance(properties, dict) else {}
        required = set(schema.get("required") or ())
        result["properties"] = {
            name: strict_schema(sub) if name in required else _nullable(strict_schema(sub))
            for name, sub in properties.items()
        }
        result["required"] = list(properties)
        result["additionalProperties"] = False
    if isinstance(schema.get("items"), dict):
        result["items"] = strict_schema(schema["items"])
    if isinstance(schema.get("anyOf"), list):
        result["anyOf"] = [strict_schema(sub) for sub in schema["anyOf"]]
    if isinstance(schema.get("$defs"), dict):
        result["$defs"] = {name: strict_schema(sub) for name, sub in schema["$defs"].items()}
    return result


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def drop_optional_nulls(data: Any, schema: dict[str, Any]) -> Any:
    """``data`` without the ``null`` values of properties that ``schema`` does not require (recursively)."""
    if isinstance(data, dict) and isinstance(schema.get("properties"), dict):
        properties: dict[str, Any] = schema["properties"]
        required = set(schema.get("required") or ())
        return {
            key: drop_optional_nulls(value, properties[key]) if key in properties else value
            for key, value in data.items()
            if not (value is None and key in properties and key not in required)
        }
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [drop_optional_nulls(item, schema["items"]) for item in data]
    return data
