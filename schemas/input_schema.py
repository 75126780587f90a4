"""A saved workflow's declared inputs (`inputSchema`): a JSON Schema object its runs' inputs must satisfy.

The rule lives here because the gateway (a 422 before a REST run starts) and the orchestrator (a run asked for on
the bus, a subworkflow's or an agent's child run) must agree, and actors share only `schemas/`. An agent and the MCP
server offer the same schema to a model as the tool's parameters.

Decided: only runs whose inputs are arguments are checked (REST, bus, subworkflow, agent, MCP); a webhook's or a
schedule's inputs are the request or the tick, which the workflow's author does not choose, so they are not.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaViolation
from pydantic import AfterValidator, Field

from .errors import FieldIssue

MAX_INPUT_SCHEMA_BYTES = 16_384
# A model or a person reads these: a handful of the first problems says enough.
MAX_INPUT_ISSUES = 10


# Keywords whose checking costs more than the schema's size says: a user's regular expression can backtrack for
# hours on a short string (Python's `re` has no time limit), and references can repeat (2^depth with nested
# `allOf`s of two `$ref`s) or loop. Checking runs on an actor's event loop, on inputs a runner, an MCP client or a
# model chooses, so it must cost no more than a walk over the schema: these are refused when it is saved. What
# declared inputs need (types, required, enum, bounds, lengths, formats) stays.
UNBOUNDED_KEYWORDS = frozenset({"pattern", "patternProperties", "$ref", "$dynamicRef", "$recursiveRef", "$defs",
                                "definitions", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$id"})
# Nesting a person writes stays far below this; jsonschema recurses once per level.
MAX_SCHEMA_DEPTH = 32


def object_schema(schema: dict[str, Any], max_bytes: int, objects_because: str) -> dict[str, Any]:
    """A JSON Schema a user wrote, checked: valid Draft 2020-12, describing an object, at most `max_bytes`, and cheap
    to check against (no regular expressions, no references, at most MAX_SCHEMA_DEPTH deep); else a ValueError in
    words (a workflow's inputs, an llm step's answer)."""
    if len(json.dumps(schema)) > max_bytes:
        raise ValueError(f"is larger than {max_bytes // 1024} KiB")
    if schema.get("type") != "object":
        raise ValueError(f'must describe an object (its "type" is "object"): {objects_because}')
    _check_cost(schema)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.absolute_path)
        raise ValueError(f"is not a valid JSON Schema{f' at {where}' if where else ''}: {error.message[:200]}") from None
    return schema


def _check_cost(schema: Any) -> None:
    pending: list[tuple[Any, str, int]] = [(schema, "", 0)]
    while pending:
        node, where, depth = pending.pop()
        if depth > MAX_SCHEMA_DEPTH:
            raise ValueError(f"nests more than {MAX_SCHEMA_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{where}.{key}" if where else str(key)
                if key in UNBOUNDED_KEYWORDS and not _is_property_name(where):
                    raise ValueError(f"uses {key!r} (at {path}), which is not supported: a regular expression or a "
                                     "reference can make checking a run's inputs take hours; use types, enum, "
                                     "minimum/maximum and minLength/maxLength")
                pending.append((value, path, depth + 1))
        elif isinstance(node, list):
            pending.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(node))


def _is_property_name(where: str) -> bool:
    """Inside `properties`, keys are the inputs' names (an input may be called `pattern`), not keywords."""
    return where.endswith("properties") and not where.endswith("patternProperties")


def _checked(schema: dict[str, Any]) -> dict[str, Any]:
    return object_schema(schema, MAX_INPUT_SCHEMA_BYTES, "a run's inputs are named fields")


InputSchema = Annotated[
    dict[str, Any], AfterValidator(_checked),
    Field(description="a JSON Schema (type object) the inputs of this workflow's runs must satisfy; an agent and the "
                      "MCP server offer it as the tool's parameters"),
]


def input_issues(schema: dict[str, Any] | None, inputs: dict[str, Any]) -> list[FieldIssue]:
    """What is wrong with `inputs` under `schema`, each naming `inputs.<path>`; [] when they satisfy it (or there is
    no schema). Reasons name the rule, never quote the value (an input may be a secret)."""
    if not schema:
        return []
    issues = []
    try:
        errors = sorted(Draft202012Validator(schema).iter_errors(inputs), key=lambda e: list(e.absolute_path))
    except Exception:  # noqa: BLE001 - a schema stored before its checks tightened: refuse the run, never crash
        return [FieldIssue(field="inputs", reason="cannot be checked: the workflow's input schema is not one this "
                                                  "version accepts; save it again")]
    for error in errors:
        issues.append(FieldIssue(field=_field(error), reason=_reason(error)))
        if len(issues) == MAX_INPUT_ISSUES:
            break
    return issues


def _field(error: SchemaViolation) -> str:
    path = "inputs"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if isinstance(error.instance, dict) and name not in error.instance]
        if missing:
            path += f".{missing[0]}"
    return path


def _reason(error: SchemaViolation) -> str:
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return "is required"
    if rule == "type":
        kinds = value if isinstance(value, list) else [value]
        return "must be " + " or ".join(_KIND_NAMES.get(str(kind), str(kind)) for kind in kinds)
    if rule == "enum" and isinstance(value, list):
        return "must be one of " + ", ".join(json.dumps(v) for v in value[:10])
    if rule == "additionalProperties":
        return "has fields the workflow does not take"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
                "maxItems", "pattern", "format", "const", "multipleOf"):
        return f"does not satisfy {rule} {json.dumps(value)[:80]}"
    return f"does not satisfy the workflow's input schema ({rule})"


_KIND_NAMES = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "an object", "array": "a list", "null": "null"}
