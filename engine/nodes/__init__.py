"""Step type -> the code that executes it. Start completes in the orchestrator and is never dispatched."""

from .base import Node, NodeContext, NodeOutcome
from .http import run_http

NODES: dict[str, Node] = {"http_request_node": run_http}

__all__ = ["NODES", "Node", "NodeContext", "NodeOutcome"]
