"""if, switch and set: they decide and shape data. Their templates are rendered before they run."""

from __future__ import annotations

import json
from typing import Any

from schemas.node_types import IfConfig, SetConfig, SwitchConfig

from .base import NodeOutcome, StepContext

# Text that reads as "no": a condition rendered inside text (`{{ x }} items`) arrives as a string.
_FALSE_TEXT = {"", "false", "0", "no", "none", "null"}


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXT
    return bool(value)


async def run_if(config: IfConfig, context: StepContext) -> NodeOutcome:
    # `condition` is rendered in expression mode, so it may be any JSON value by now, not only text.
    result = truthy(config.condition)
    return NodeOutcome(output={"result": result}, handles=["true" if result else "false"])


def as_case_text(value: Any) -> str:
    """How a switch value reads against its cases: text as is, anything else as JSON writes it (true, 1, null)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def run_switch(config: SwitchConfig, context: StepContext) -> NodeOutcome:
    # `value` is rendered as a typed value (a number stays a number), so compare its text.
    text = as_case_text(config.value)
    matched = text if text in config.cases else "default"
    return NodeOutcome(output={"value": text, "matched": matched}, handles=[matched])


async def run_set(config: SetConfig, context: StepContext) -> NodeOutcome:
    return NodeOutcome(output=dict(config.values))
