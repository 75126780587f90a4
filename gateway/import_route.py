"""POST /v1/import: convert an n8n workflow, a Node-RED flow or our own export into a graph and a report."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from schemas.imports import ImportRequest, ImportResponse

from .errors import ApiException, json_response, parse_body, read_body
from .imports import ImportRejected, import_document


async def import_workflow(request: Request) -> Response:
    body = parse_body(ImportRequest, await read_body(request))
    try:
        # Converting a few hundred nodes compiles the graph a few times: off the event loop.
        answer: ImportResponse = await asyncio.to_thread(import_document, body.document, body.source)
    except ImportRejected as rejected:
        raise ApiException(422, "validation_error", rejected.message, rejected.issues) from None
    return json_response(answer)
