"""start: the manual trigger. It completes in the orchestrator; its output is the run's inputs."""

from __future__ import annotations

from .._base import Contract
from ._registry import REGISTRY, NodeType, NodeUi


class StartConfig(Contract):
    """Start takes no configuration."""


START = REGISTRY.register(NodeType(
    order=0,
    type="start", kind="trigger", title="Start", description="Where every run begins: a manual trigger",
    config=StartConfig, inputs=(), completes="trigger",
    ui=NodeUi(glyph="▶", accent="#16a34a", defaultLabel="Start", summary="Manual trigger", idPrefix="start",
              outputFields={"payload": "the payload the run was started with"}),
))
