"""Every node type, declared once. Importing this package registers the built-in ones."""

from . import agent, code, delay, http, llm, logic, loop, mcp_tool, merge, schedule, start, subworkflow, wait, webhook
from ._registry import (
    REGISTRY,
    Completion,
    DynamicOutputs,
    FieldUi,
    Handle,
    NodeKind,
    NodeRegistry,
    NodeType,
    NodeTypeInfo,
    NodeTypeList,
    NodeUi,
    TemplateMode,
)
from .agent import DEFAULT_MAX_ITERATIONS, AgentCall, AgentConfig, McpServerRef
from .code import CodeConfig
from .delay import MAX_DELAY_S, DelayConfig
from .http import DEFAULT_HTTP_TIMEOUT_MS, HttpAuth, HttpConfig, HttpMethod
from .llm import DEFAULT_LLM_BASE_URL, DEFAULT_LLM_TIMEOUT_MS, LlmConfig
from .mcp_tool import DEFAULT_MCP_TIMEOUT_MS, McpToolConfig
from .logic import IfConfig, SetConfig, SwitchConfig
from .schedule import ScheduleConfig
from .settings import MAX_RETRY_AFTER_MS, NodeSettings, RetryPolicy
from .loop import MAX_LOOP_ITEMS, LoopConfig
from .merge import MergeConfig
from .start import StartConfig
from .subworkflow import MAX_SUBWORKFLOW_DEPTH, SubworkflowConfig
from .wait import WaitConfig
from .webhook import WebhookConfig, WebhookVerify

# Node ids are subject tokens, KV keys and message ids: restricted so 'a' and 'a ' can never collide.
NODE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

__all__ = [
    "DEFAULT_MAX_ITERATIONS", "AgentCall", "AgentConfig", "McpServerRef", "agent",
    "MAX_LOOP_ITEMS", "MAX_SUBWORKFLOW_DEPTH", "LoopConfig", "MergeConfig", "SubworkflowConfig", "WaitConfig",
    "CodeConfig", "Completion", "REGISTRY", "DynamicOutputs", "FieldUi", "Handle", "NodeKind", "NodeRegistry", "NodeType", "NodeTypeInfo",
    "NodeTypeList", "NodeUi", "TemplateMode", "MAX_DELAY_S", "DelayConfig", "DEFAULT_HTTP_TIMEOUT_MS", "HttpAuth",
    "HttpConfig", "HttpMethod", "IfConfig", "SetConfig", "SwitchConfig", "MAX_RETRY_AFTER_MS", "NodeSettings",
    "RetryPolicy", "DEFAULT_LLM_BASE_URL", "DEFAULT_LLM_TIMEOUT_MS", "LlmConfig", "DEFAULT_MCP_TIMEOUT_MS",
    "McpToolConfig", "llm", "mcp_tool", "ScheduleConfig", "StartConfig", "NODE_ID_PATTERN", "WebhookConfig", "WebhookVerify", "code", "delay", "http", "logic", "loop", "merge", "schedule",
    "start", "subworkflow", "wait", "webhook",
]
