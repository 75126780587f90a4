"""The gateway's Starlette application: REST, the run event WebSocket and the built web builder."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from bus import Bus, BusSettings, CredentialStore, NatsLogin, subjects

from . import (audit, auth, credentials, expressions, hooks, import_route, mcp_tools, node_types, resume, run_items, runs,
               templates, tokens, workflows)
from .auth import Authenticator, AuthMiddleware, guarded
from .errors import ApiException, on_api_exception, on_http_exception, on_unexpected
from .events_socket import run_events_socket
from .hooks import HOOK_METHODS
from .run_list_socket import run_list_socket
from .request_id import RequestIdMiddleware
from .same_origin import LOOPBACK_HOSTS, SameOriginMiddleware, SecurityHeadersMiddleware
from .mcp_server import DEFAULT_CALL_TIMEOUT_S, MCP_PATH, McpEndpoint
from .saved_versions import SavedVersions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayConfig:
    nats_url: str
    bus: BusSettings = BusSettings()
    examples_dir: Path | None = None
    web_dist: Path | None = None
    master_key: str | None = field(default=None, repr=False)
    master_password: str | None = field(default=None, repr=False)
    # Required: every /v1 route but the webhooks needs a token, and this one is the first admin's.
    admin_token: str = field(default="", repr=False)
    # Host names accepted besides loopback's (gateway/same_origin.py): AUTOMATEOS_PUBLIC_URL's.
    public_hosts: tuple[str, ...] = ()
    # The gateway's NATS user (bus/permissions.py); None on a bus without users.
    nats_login: NatsLogin | None = None
    # AUTOMATEOS_PUBLIC_URL: the base of the webhook URLs reported in `triggers[].url` (else the request's own).
    public_url: str | None = None
    # AUTOMATEOS_MCP_CALL_TIMEOUT_S: how long an MCP tools/call waits for its run before answering with its id.
    mcp_call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    bus: Bus = request.app.state.bus
    problems = []
    if not bus.connected:
        problems.append("not connected to NATS")
    else:
        for stream in (subjects.RUNS_STREAM, subjects.DISPATCH_STREAM, subjects.RESULTS_STREAM, subjects.EVENTS_STREAM):
            try:
                await bus.js.stream_info(stream)
            except Exception as error:  # any failure here means "not ready", which is the answer
                problems.append(f"stream {stream}: {type(error).__name__}")
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})


# Open WebSockets (a builder tab following a run) would otherwise hold a stopping gateway open indefinitely.
SHUTDOWN_GRACE_S = 5

_NOT_BUILT = """<!doctype html><title>AutomateOS</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>AutomateOS</h1><p>The API is up, but the web builder has not been built.
Run <code>make up</code> (it builds <code>web/</code>), or <code>cd web && npm install && npm run build</code>.</p>
<p>API: <code>/v1/runs</code>, <code>/v1/templates</code>, <code>/healthz</code>.</p></body>"""


async def builder_missing(request: Request) -> Response:
    return HTMLResponse(_NOT_BUILT)


def routes(config: GatewayConfig, mcp: McpEndpoint | None = None) -> list[BaseRoute]:
    """Every route, with who may use it: runner < editor < admin (gateway/auth.py). The AuthMiddleware has already
    refused requests with no principal, except the open ones (hooks, resume URLs, health, signing in)."""
    runner = functools.partial(guarded, "runner")
    editor = functools.partial(guarded, "editor")
    admin = functools.partial(guarded, "admin")
    api: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/v1/session", auth.get_session, methods=["GET"]),
        Route("/v1/session", auth.sign_in, methods=["POST"]),
        Route("/v1/session", auth.sign_out, methods=["DELETE"]),
        Route("/v1/session/codes", runner("making a sign-in code", auth.create_sign_in_code), methods=["POST"]),
        # Drafts (a graph) need editor; create_run checks that itself, as the body says which it is.
        Route("/v1/runs", runner("starting a run", runs.create_run), methods=["POST"]),
        Route("/v1/runs", runner("listing runs", runs.list_runs), methods=["GET"]),
        Route("/v1/runs/{run_id}", runner("reading a run", runs.get_run), methods=["GET"]),
        Route("/v1/runs/{run_id}/steps/{step_id}/output", runner("reading a step's output", runs.get_step_output),
              methods=["GET"]),
        Route("/v1/runs/{run_id}/steps/{step_id}/items", runner("reading a loop's items", run_items.list_items),
              methods=["GET"]),
        Route("/v1/runs/{run_id}/cancel", runner("cancelling a run", runs.cancel_run), methods=["POST"]),
        Route("/v1/runs/{run_id}/rerun", runner("re-running a run", runs.rerun), methods=["POST"]),
        WebSocketRoute("/v1/runs/live", run_list_socket),
        WebSocketRoute("/v1/runs/{run_id}/events", run_events_socket),
        Route("/v1/workflows/validate", editor("validating a workflow", runs.validate_workflow), methods=["POST"]),
        Route("/v1/expressions/preview", editor("previewing an expression", expressions.preview_expression),
              methods=["POST"]),
        Route("/v1/workflows", editor("creating a workflow", workflows.create_workflow), methods=["POST"]),
        Route("/v1/import", editor("importing a workflow", import_route.import_workflow), methods=["POST"]),
        Route("/v1/workflows", runner("listing workflows", workflows.list_workflows), methods=["GET"]),
        Route("/v1/workflows/{workflow_id}", runner("reading a workflow", workflows.get_workflow), methods=["GET"]),
        Route("/v1/workflows/{workflow_id}", editor("changing a workflow", workflows.update_workflow), methods=["PUT"]),
        Route("/v1/workflows/{workflow_id}", editor("deleting a workflow", workflows.delete_workflow),
              methods=["DELETE"]),
        Route("/v1/workflows/{workflow_id}/versions", runner("listing versions", workflows.list_versions),
              methods=["GET"]),
        Route("/v1/workflows/{workflow_id}/versions/{version}", runner("reading a version", workflows.get_version),
              methods=["GET"]),
        Route("/v1/workflows/{workflow_id}/activate", admin("activating a workflow", workflows.activate_workflow),
              methods=["POST"]),
        Route("/v1/workflows/{workflow_id}/deactivate",
              admin("deactivating a workflow", workflows.deactivate_workflow), methods=["POST"]),
        Route("/v1/schedules/preview", editor("previewing a schedule", workflows.preview_schedule), methods=["POST"]),
        Route("/v1/mcp-servers/tools", editor("listing an MCP server's tools", mcp_tools.list_server_tools),
              methods=["POST"]),
        Route("/v1/credentials", editor("listing credentials", credentials.list_credentials), methods=["GET"]),
        Route("/v1/credentials", admin("adding a credential", credentials.create_credential), methods=["POST"]),
        Route("/v1/credentials/{name}", admin("replacing a credential", credentials.replace_credential),
              methods=["PUT"]),
        Route("/v1/credentials/{name}", admin("deleting a credential", credentials.delete_credential),
              methods=["DELETE"]),
        Route("/v1/tokens", admin("listing tokens", tokens.list_tokens), methods=["GET"]),
        Route("/v1/tokens", admin("creating a token", tokens.create_token), methods=["POST"]),
        Route("/v1/tokens/{name}", admin("revoking a token", tokens.revoke_token), methods=["DELETE"]),
        Route("/v1/audit", admin("reading the audit log", audit.list_audit), methods=["GET"]),
        Route("/v1/node-types", runner("listing node types", node_types.list_node_types), methods=["GET"]),
        # Every method reaches the hook: which ones it accepts is its own setting, and the rest get 405 with Allow.
        Route("/v1/hooks/{hook_id}", hooks.receive_hook, methods=list(HOOK_METHODS)),
        # Open: the token in the path is the secret (gateway/resume.py); other origins may post (CORS, no cookies).
        Route("/v1/resume/{token}", resume.resume_page_route, methods=["GET"]),
        Route("/v1/resume/{token}", resume.resume_route, methods=["POST"]),
        Route("/v1/resume/{token}", resume.resume_preflight, methods=["OPTIONS"]),
        Route("/v1/templates", runner("listing templates", templates.list_templates), methods=["GET"]),
        Route("/v1/templates/{template_id}", runner("reading a template", templates.get_template), methods=["GET"]),
    ]
    if mcp is not None:
        # Outside /v1: MCP clients are pointed at one URL, and the endpoint checks its own tokens (any role may list
        # and call), never the session cookie (gateway/mcp_server.py).
        api.append(Route(MCP_PATH, endpoint=mcp.asgi))
    if config.web_dist is not None and (config.web_dist / "index.html").exists():
        api.append(Mount("/", StaticFiles(directory=config.web_dist, html=True), name="builder"))
    else:
        api.append(Route("/", builder_missing))
    return api


def create_app(config: GatewayConfig) -> Starlette:
    if len(config.admin_token) < 16:
        raise ValueError("the gateway needs AUTOMATEOS_ADMIN_TOKEN (16 characters or more); `automateos up` "
                         "generates one into .env")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.bus = await Bus.connect(config.nats_url, "gateway", config.bus, login=config.nats_login)
        try:
            app.state.credentials = await CredentialStore.open(
                app.state.bus.credentials_kv, config.master_key, config.master_password, writes_key_check=False
            )
        except BaseException:
            await app.state.bus.close()
            raise
        app.state.authenticator = Authenticator(config.admin_token, app.state.bus, config.public_url)
        app.state.saved_versions = SavedVersions(app.state.bus)
        app.state.templates = templates.TemplateLibrary(config.examples_dir)
        app.state.mcp_call_timeout_s = config.mcp_call_timeout_s
        log.info("gateway connected to NATS; %d templates", len(app.state.templates.infos))
        try:
            async with mcp.running():
                yield
        finally:
            await app.state.bus.close()

    mcp = McpEndpoint()
    app = Starlette(
        routes=routes(config, mcp),
        middleware=[Middleware(RequestIdMiddleware), Middleware(SecurityHeadersMiddleware),
                    Middleware(SameOriginMiddleware, allowed_hosts=LOOPBACK_HOSTS | set(config.public_hosts)),
                    Middleware(AuthMiddleware)],
        exception_handlers={ApiException: on_api_exception, HTTPException: on_http_exception, Exception: on_unexpected},
        lifespan=lifespan,
    )
    app.state.public_url = config.public_url
    return app
