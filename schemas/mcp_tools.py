"""POST /v1/mcp-tools: an MCP server's tools, for the builder's mcp_tool form to pick from; and the question the
gateway asks an engine for them on the bus (`mcp.tools.list`), since only an engine reads credentials and connects
out."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ._base import Contract
from .credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN
from .node_types.http import checked_url

# A server may offer many tools; the form lists the first ones, and the tool's name can always be typed.
MAX_LISTED_TOOLS = 200


class McpToolsRequest(Contract):
    serverUrl: str = Field(min_length=1, max_length=2048, description="the server's streamable HTTP endpoint")
    credentialName: str | None = Field(default=None, min_length=1, max_length=CREDENTIAL_NAME_MAX,
                                       pattern=CREDENTIAL_NAME_PATTERN,
                                       description="the stored credential holding its token (Authorization: Bearer)")

    @field_validator("serverUrl")
    @classmethod
    def _server_url(cls, url: str) -> str:
        return checked_url(url, templated=False)


class McpToolInfo(Contract):
    name: str
    description: str | None = None
    inputSchema: dict[str, Any] = Field(default_factory=dict)


class McpToolsList(Contract):
    """The answer: `tools`, or `error` in words (what a step calling that server would fail with)."""

    tools: list[McpToolInfo] = Field(default_factory=list)
    error: str | None = None
