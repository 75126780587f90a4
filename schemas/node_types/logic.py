"""Logic steps: if, switch and set. They run in an engine worker like any step (their templates may
read credentials), and tell the orchestrator which output handles they took."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from .._base import Contract
from ._registry import REGISTRY, DynamicOutputs, FieldUi, Handle, NodeType, NodeUi

MAX_CASES = 32
MAX_SET_VALUES = 100


class IfConfig(Contract):
    condition: str = Field(min_length=1, max_length=8192, description="a template expression: true or false")


class SwitchConfig(Contract):
    value: str = Field(
        min_length=1, max_length=8192,
        description="a template; its value, as text (true, 1, eu), is compared with each case",
    )
    cases: list[str] = Field(min_length=1, max_length=MAX_CASES)

    @field_validator("cases")
    @classmethod
    def _distinct(cls, cases: list[str]) -> list[str]:
        seen: set[str] = set()
        for index, case in enumerate(cases):
            if case == "":
                raise ValueError(f"case {index + 1} is empty")
            if case == "default":
                raise ValueError("'default' is the handle for no match; name the case otherwise")
            if len(case) > 64:
                raise ValueError(f"case {index + 1} is longer than 64 characters")
            if case in seen:
                raise ValueError(f"case '{case}' appears twice")
            seen.add(case)
        return cases


class SetConfig(Contract):
    values: dict[str, Any] = Field(min_length=1, max_length=MAX_SET_VALUES)

    @field_validator("values")
    @classmethod
    def _names(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in values:
            if not name.strip():
                raise ValueError("every value needs a name")
        return values


def _if_pinned(config: dict[str, Any], output: Any) -> list[str]:
    if not isinstance(output, dict) or not isinstance(output.get("result"), bool):
        raise ValueError('an If\'s pinned output says which branch it takes: {"result": true} or {"result": false}')
    return ["true" if output["result"] else "false"]


def _switch_pinned(config: dict[str, Any], output: Any) -> list[str]:
    handles = SWITCH.output_handles(config)
    if not isinstance(output, dict) or output.get("matched") not in handles:
        raise ValueError(f'a Switch\'s pinned output says which case it matched: {{"matched": …}}, one of '
                         f'{", ".join(handles)}')
    return [str(output["matched"])]


IF = REGISTRY.register(NodeType(
    order=20,
    type="if", kind="logic", title="If", description="Take the true or the false branch",
    config=IfConfig, outputs=(Handle(id="true", label="true"), Handle(id="false", label="false")),
    templated={"condition": "expression"}, pinned_handles=_if_pinned,
    ui=NodeUi(
        glyph="?", accent="#d97706", defaultLabel="If", summary="{condition}", idPrefix="if",
        outputFields={"result": "true or false"}, defaults={"condition": ""},
        fields={"condition": FieldUi(
            widget="expression", label="Condition", templated=True, monospace=True,
            placeholder="steps.http_1.output.body.amount > 500",
            help="One expression, as payload.body.amount > 100, with or without {{ }} around the whole of it. "
                 "False when it is false, empty, 0, none, or the text false, 0, no, none or null.",
        )},
    ),
))

SWITCH = REGISTRY.register(NodeType(
    order=30,
    type="switch", kind="logic", title="Switch", description="Take the branch whose case matches a value",
    config=SwitchConfig, outputs=(), dynamic_outputs=DynamicOutputs(field="cases", extra=[Handle(id="default", label="default")]),
    templated={"value": "value"}, pinned_handles=_switch_pinned,
    ui=NodeUi(
        glyph="⇄", accent="#d97706", defaultLabel="Switch", summary="{value}", idPrefix="switch",
        outputFields={"value": "the value, as text", "matched": "the case it matched, or default"},
        defaults={"value": "", "cases": ["a", "b"]},
        fields={
            "value": FieldUi(widget="text", label="Value", order=0, templated=True, monospace=True,
                             placeholder="{{ steps.http_1.output.body.region }}"),
            "cases": FieldUi(widget="list", label="Cases", order=1, placeholder="eu",
                             help="One branch per case; the value, as text, must equal it. No match takes default."),
        },
    ),
))

SET = REGISTRY.register(NodeType(
    order=40,
    type="set", kind="logic", title="Set", description="Build an object from values and templates",
    config=SetConfig, templated={"values": "value"},
    ui=NodeUi(
        glyph="=", accent="#0891b2", defaultLabel="Set", summary="{values}", idPrefix="set", outputFieldsFrom="values",
        defaults={"values": {"name": ""}},
        fields={"values": FieldUi(
            widget="valueMap", label="Values", templated=True, placeholder="{{ steps.http_1.output.body.id }}",
            help="A value that is exactly one {{ expression }} keeps its type (number, list, object).",
        )},
    ),
))
