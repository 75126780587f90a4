"""delay: wait, durably. The orchestrator keeps the timer on the bus, so the wait holds no worker and
no coroutine, survives restarts of every process, and a cancel ends it."""

from __future__ import annotations

from pydantic import Field

from .._base import Contract
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

MAX_DELAY_S = 30 * 24 * 3600


class DelayConfig(Contract):
    seconds: float = Field(gt=0, le=MAX_DELAY_S, description="0 < seconds ≤ 30 days")


DELAY = REGISTRY.register(NodeType(
    order=50,
    type="delay", kind="logic", title="Delay", description="Wait, then go on (up to 30 days)",
    config=DelayConfig, completes="timer",
    ui=NodeUi(
        glyph="◷", accent="#64748b", defaultLabel="Delay", summary="{seconds} s", idPrefix="delay",
        outputFields={"waitedSeconds": "how long it waited", "resumedAt": "when it went on"}, defaults={"seconds": 60},
        fields={"seconds": FieldUi(widget="number", label="Seconds", placeholder="60",
                                   help="Up to 2,592,000 (30 days). The wait survives restarts; Cancel ends it.")},
    ),
))
