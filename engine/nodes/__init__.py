"""Node type -> the executor that acts for it. Triggers and Delay complete in the orchestrator and have none."""

from .agent import run_agent
from .base import Credentials, Executor, NodeContext, NodeOutcome, StepContext
from .code import run_code
from .control import run_loop_items, run_merge, run_rendered
from .http import run_http
from .llm import run_llm
from .mcp_tool import run_mcp_tool
from .logic import run_if, run_set, run_switch

EXECUTORS: dict[str, Executor] = {}


def register_executor(node_type: str, executor: Executor) -> Executor:
    """Pair a node type (declared in schemas.node_types) with its executor; a test or a plugin may add one."""
    EXECUTORS[node_type] = executor
    return executor


def unregister_executor(node_type: str) -> None:
    EXECUTORS.pop(node_type, None)


register_executor("http", run_http)
register_executor("if", run_if)
register_executor("switch", run_switch)
register_executor("set", run_set)
register_executor("code", run_code)
register_executor("llm", run_llm)
register_executor("mcp_tool", run_mcp_tool)
# The agent: its templates rendered first, then each model call and MCP call of its loop (StepDispatch.call).
register_executor("agent", run_agent)
# Control flow: the worker renders, or (a merge) assembles; the orchestrator does the rest.
register_executor("loop", run_loop_items)
register_executor("merge", run_merge)
register_executor("subworkflow", run_rendered)
register_executor("wait", run_rendered)

__all__ = [
    "EXECUTORS", "Credentials", "Executor", "NodeContext", "NodeOutcome", "StepContext", "register_executor",
    "unregister_executor",
]
