"""agent: a model that calls tools (saved workflows, each a child run, and MCP servers' tools) until it answers.

Declared once here. The orchestrator drives the loop (orchestrator/completions/agent.py: `completes` is "children",
like a subworkflow's); an engine worker makes each model call and each MCP call (engine/nodes/agent.py), since only
workers hold credentials and the outbound guard. Each such call is one dispatch of the step, whose config is an
`AgentCall` (`call_config`), so the step reaches a worker many times in one attempt."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .._base import Contract
from ..credentials import CredentialName
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi
from .mcp_tool import McpServerUrl
from .llm import DEFAULT_LLM_BASE_URL, DEFAULT_LLM_TIMEOUT_MS, LlmConfig

DEFAULT_MAX_ITERATIONS = 5
MAX_ITERATIONS = 50
MAX_AGENT_TOOLS = 32
MAX_MCP_SERVERS = 8
# As schemas.runs.WorkflowId, which this package cannot import (runs imports the registry).


# As schemas/runs.py's WorkflowId (which imports the node types, so cannot be imported here).
WorkflowId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class McpServerRef(Contract):
    url: McpServerUrl
    credentialName: CredentialName | None = Field(
        default=None, description="the stored credential holding a token, sent as Authorization: Bearer")


class AgentConfig(LlmConfig):
    """Everything an llm step has (same fields, same wire names), and the tools the model may call."""

    tools: list[WorkflowId] = Field(default_factory=list, max_length=MAX_AGENT_TOOLS,
                                    description="saved workflow ids, each offered as a function tool")
    mcpServers: list[McpServerRef] = Field(default_factory=list, max_length=MAX_MCP_SERVERS,
                                           description="MCP servers whose tools are offered too")
    maxIterations: int = Field(default=DEFAULT_MAX_ITERATIONS, ge=1, le=MAX_ITERATIONS,
                               description="model calls at most; the step fails if the model still calls tools")


class AgentCall(Contract):
    """One call of an agent step's attempt, as the orchestrator dispatches it (StepDispatch.call).

    - `model`: the model settings as drawn, and the conversation after the prompt (`messages`; a tool message whose
      content is stored apart names it in `contentFrom`, a key of the dispatch's `steps`). The rendered system and
      prompt, and the tools' definitions, come in `steps` too (`~prepared`, `~w`, `~l<n>`), as outputs do.
    - `list`: list an MCP server's tools. `mcp`: call one of them."""

    kind: Literal["model", "list", "mcp"]
    baseUrl: str = DEFAULT_LLM_BASE_URL
    credentialName: CredentialName | None = None
    model: str = ""
    temperature: float | None = None
    maxTokens: int | None = None
    responseFormat: Literal["text", "json"] = "text"
    jsonSchema: dict[str, Any] | None = None
    timeoutMs: int | None = Field(default=None, ge=1000, le=600_000)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    mcpServers: list[McpServerRef] = Field(default_factory=list)
    serverUrl: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)


AGENT = REGISTRY.register(NodeType(
    order=63,
    type="agent", kind="action", title="AI Agent",
    description="A model that calls your workflows and MCP tools until it answers",
    config=AgentConfig, call_config=AgentCall, completes="children", templated={"system": "text", "prompt": "text"},
    credential_fields=("credentialName", "mcpServers"),
    ui=NodeUi(
        glyph="✧", accent="#6d28d9", defaultLabel="AI Agent", summary="{model}", idPrefix="agent", errorHandling=True,
        defaults={"baseUrl": DEFAULT_LLM_BASE_URL, "model": "", "prompt": "", "responseFormat": "text",
                  "timeoutMs": DEFAULT_LLM_TIMEOUT_MS, "tools": [], "mcpServers": [],
                  "maxIterations": DEFAULT_MAX_ITERATIONS},
        outputFields={"text": "the model's final answer", "json": "the answer parsed (responseFormat json)",
                      "toolCalls": "each tool call: name, arguments, runId, status, output",
                      "usage.promptTokens": "prompt tokens, over every model call",
                      "usage.completionTokens": "completion tokens, over every model call"},
        fields={
            "baseUrl": FieldUi(widget="text", label="API base URL", order=0, monospace=True,
                               placeholder=DEFAULT_LLM_BASE_URL,
                               help="Any OpenAI-compatible API with tool calls."),
            "credentialName": FieldUi(widget="credential", label="API key", order=1,
                                      help="Sent as Authorization: Bearer <key>. The key stays on the server."),
            "model": FieldUi(widget="text", label="Model", order=2, monospace=True, placeholder="gpt-4o-mini"),
            "system": FieldUi(widget="textarea", label="System message", order=3, templated=True,
                              placeholder="You are a helpful operations assistant."),
            "prompt": FieldUi(widget="textarea", label="Prompt", order=4, templated=True,
                              placeholder="Refund order {{ payload.body.orderId }} if it was paid twice."),
            "tools": FieldUi(widget="workflows", label="Workflow tools", order=5,
                             help="Saved workflows, picked by name; each is offered with its description and inputs, "
                                  "and each call runs it as a run of its own."),
            "mcpServers": FieldUi(widget="mcpServers", label="MCP servers", order=6,
                                  help="Their tools are offered too; the token, if any, stays on the server."),
            "maxIterations": FieldUi(widget="number", label="Max model calls", order=7, placeholder="5"),
            "responseFormat": FieldUi(widget="select", label="Answer as", order=8,
                                      optionLabels={"text": "Text", "json": "JSON object"}),
            "jsonSchema": FieldUi(widget="json", label="JSON Schema of the answer", order=9),
            "temperature": FieldUi(widget="number", label="Temperature", order=10, placeholder="0.2"),
            "maxTokens": FieldUi(widget="number", label="Max tokens", order=11, placeholder="1024"),
            "timeoutMs": FieldUi(widget="number", label="Timeout per model call (ms)", order=12,
                                 placeholder="120000"),
        },
    ),
))
