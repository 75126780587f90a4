"""What the gateway's lifespan puts on app.state, typed, for the endpoints."""

from __future__ import annotations

from starlette.requests import Request

from bus import Bus, CredentialStore


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def credentials_of(request: Request) -> CredentialStore:
    store: CredentialStore = request.app.state.credentials
    return store
