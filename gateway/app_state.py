"""What the gateway's lifespan puts on app.state, typed, for the endpoints."""

from __future__ import annotations

from starlette.requests import Request

from bus import Bus, CredentialStore


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def public_base(request: Request) -> str:
    """Where this gateway is reached, for the URLs it reports (webhooks'): AUTOMATEOS_PUBLIC_URL when set, else the
    address the request came to, which is one the gateway answers to (its Host check) and so works for the asker."""
    configured: str | None = request.app.state.public_url
    return (configured or str(request.base_url)).rstrip("/")


def credentials_of(request: Request) -> CredentialStore:
    store: CredentialStore = request.app.state.credentials
    return store
