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


def object_schema(schema: dict[str, Any], max_bytes: int, objects_because: str) -> dict[str, Any]:
    """A JSON Schema a user wrote, checked: valid Draft 2020-12, describing an object, at most `max_bytes`; else a
    ValueError in words (a workflow's inputs, an llm step's answer)."""
    if len(json.dumps(schema)) > max_bytes:
        raise ValueError(f"is larger than {max_bytes // 1024} KiB")
    if schema.get("type") != "object":
        raise ValueError(f'must describe an object (its "type" is "object"): {objects_because}')
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.absolute_path)
        raise ValueError(f"is not a valid JSON Schema{f' at {where}' if where else ''}: {error.message[:200]}") from None
    return schema


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
    for error in sorted(Draft202012Validator(schema).iter_errors(inputs), key=lambda e: list(e.absolute_path)):
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
