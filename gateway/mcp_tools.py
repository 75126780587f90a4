"""POST /v1/mcp-servers/tools: an MCP server's tools, for the builder's mcp_tool form to pick from.

An engine lists them (`mcp.tools.list`), as a step would call them: only an engine reads credentials and connects out,
through its outbound guard and the credential's fence. The gateway checks the body and that the credential exists.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from bus import NoEngine
from schemas import FieldIssue
from schemas.mcp_tools import McpToolsRequest

from . import audit
from .app_state import bus_of, credentials_of
from .errors import ApiException, json_response, parse_body, read_body

# The engine gives the server 10 s (engine/nodes/mcp_tool.py LIST_TIMEOUT_S); a little more for the bus.
LIST_TIMEOUT_S = 12.0


async def list_server_tools(request: Request) -> Response:
    body = parse_body(McpToolsRequest, await read_body(request))
    if body.credentialName is not None and body.credentialName not in await credentials_of(request).names():
        raise ApiException(422, "validation_error", f"there is no credential {body.credentialName!r}",
                           [FieldIssue(field="credentialName", reason="names no stored credential")])
    if body.credentialName is not None:
        # A credential sent somewhere outside a run, which would otherwise leave no trace (a run names who started
        # it): the audit log says who sent which to which host. Its fence, if it has one, is enforced by the engine.
        await audit.record(request, "credential.send", body.credentialName, host=urlsplit(body.serverUrl).netloc,
                           purpose="listing an MCP server's tools")
    try:
        answer = await bus_of(request).mcp_tools(body, LIST_TIMEOUT_S)
    except NoEngine as error:
        raise ApiException(503, "unavailable", f"no engine is running to reach the server ({error}); start one "
                           "(`automateos engine`, or `automateos up`)", headers={"Retry-After": "1"}) from None
    # `{tools}`, or `{tools: [], error}` saying why the server could not be listed (it is not the request's fault).
    return json_response(answer)
