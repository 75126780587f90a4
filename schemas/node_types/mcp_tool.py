"""mcp_tool: one tool call on an external MCP server over streamable HTTP. Declared here once; executed by
engine/nodes/mcp_tool.py with the official `mcp` SDK client."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from .._base import Contract
from ..credentials import CredentialName
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi
from .http import checked_url

DEFAULT_MCP_TIMEOUT_MS = 60_000


# An MCP server's streamable HTTP endpoint, as a step, an agent and the builder's tool list name it: not templated.
McpServerUrl = Annotated[str, Field(min_length=1, max_length=2048, description="the server's streamable HTTP endpoint"),
                         AfterValidator(lambda url: checked_url(url, templated=False))]
_TOKEN = "the stored credential holding a token, sent as Authorization: Bearer"


class McpToolConfig(Contract):
    serverUrl: McpServerUrl
    credentialName: CredentialName | None = Field(default=None, description=_TOKEN)
    # MCP names tools freely; this keeps what a form and a log show readable.
    tool: str = Field(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f]+$")
    arguments: dict[str, Any] = Field(default_factory=dict, description="the tool's arguments (templated)")
    timeoutMs: int | None = Field(default=None, ge=1000, le=600_000,
                                  description="for the whole call: connecting, the handshake and the tool's answer")


MCP_TOOL = REGISTRY.register(NodeType(
    order=64,
    type="mcp_tool", kind="action", title="MCP Tool", description="Call one tool of an MCP server",
    config=McpToolConfig, templated={"arguments": "value"}, credential_fields=("credentialName",),
    ui=NodeUi(
        glyph="⌁", accent="#0d9488", defaultLabel="MCP Tool", summary="{tool}", idPrefix="mcp", errorHandling=True,
        defaults={"serverUrl": "", "tool": "", "arguments": {}, "timeoutMs": DEFAULT_MCP_TIMEOUT_MS},
        fields={
            "serverUrl": FieldUi(widget="text", label="Server URL", order=0, monospace=True,
                                 placeholder="https://mcp.example.com/mcp"),
            "credentialName": FieldUi(widget="credential", label="Token", order=1,
                                      help="Sent as Authorization: Bearer <token>. The token stays on the server."),
            "tool": FieldUi(widget="mcpTool", label="Tool", order=2, monospace=True, placeholder="search_issues",
                            help="Type its name, or List tools to pick one of the server's (an engine asks it, "
                                 "with the token above)."),
            "arguments": FieldUi(widget="valueMap", label="Arguments", order=3, templated=True,
                                 placeholder="{{ payload.body.query }}"),
            "timeoutMs": FieldUi(widget="number", label="Timeout (ms)", order=4, placeholder="60000"),
        },
    ),
))
