"""What the gateway's lifespan puts on app.state, typed, for the endpoints."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from bus import Bus, CredentialStore

from .saved_versions import SavedVersions

# A WebSocket's own address is ws(s)://; the URLs it reports are for HTTP.
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def public_base(connection: HTTPConnection) -> str:
    """Where this gateway is reached, for the URLs it reports (webhooks', resume URLs): AUTOMATEOS_PUBLIC_URL when
    set, else the address the request (or WebSocket) came to, which is one the gateway answers to (its Host check)
    and so works for the asker."""
    configured: str | None = connection.app.state.public_url
    if configured:
        return configured.rstrip("/")
    base = connection.base_url
    return str(base.replace(scheme=_HTTP_SCHEMES.get(base.scheme, base.scheme))).rstrip("/")


def credentials_of(request: Request) -> CredentialStore:
    store: CredentialStore = request.app.state.credentials
    return store


def saved_of(request: Request) -> SavedVersions:
    saved: SavedVersions = request.app.state.saved_versions
    return saved
