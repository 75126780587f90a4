"""POST /v1/mcp-tools: an MCP server's tools, for the builder's mcp_tool form to pick from; and the question the
gateway asks an engine for them on the bus (`mcp.tools.list`), since only an engine reads credentials and connects
out."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ._base import Contract
from .credentials import CredentialName
from .node_types.mcp_tool import McpServerUrl

# A server may offer many tools; the form lists the first ones, and the tool's name can always be typed.
MAX_LISTED_TOOLS = 200


class McpToolsRequest(Contract):
    serverUrl: McpServerUrl
    credentialName: CredentialName | None = Field(
        default=None, description="the stored credential holding its token (Authorization: Bearer)")


class McpToolInfo(Contract):
    name: str
    description: str | None = None
    inputSchema: dict[str, Any] = Field(default_factory=dict)


class McpToolsList(Contract):
    """The answer: `tools`, or `error` in words (what a step calling that server would fail with)."""

    tools: list[McpToolInfo] = Field(default_factory=list)
    error: str | None = None
