"""GET /v1/node-types: the registry, as the builder draws its palette and forms from it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from schemas import REGISTRY

from .errors import json_response


async def list_node_types(request: Request) -> Response:
    # Built per request, not cached: the registry is open, and a type registered later must show up.
    return json_response(REGISTRY.catalogue())
