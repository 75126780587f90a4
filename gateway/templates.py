"""Workflow templates: the JSON files in examples/, listed and served as they are."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from schemas import TemplateInfo, TemplateList, Workflow, as_graph

from .errors import ApiException, json_response

log = logging.getLogger(__name__)

_WORKFLOW: TypeAdapter[Any] = TypeAdapter(Workflow)


class TemplateLibrary:
    """Read once at start-up; a file that does not parse as a workflow is skipped with a warning."""

    def __init__(self, directory: Path | None) -> None:
        self.documents: dict[str, bytes] = {}
        self.infos: list[TemplateInfo] = []
        if directory is None or not directory.is_dir():
            return
        for path in sorted(directory.glob("*.json")):
            raw = path.read_bytes()
            try:
                graph = as_graph(_WORKFLOW.validate_json(raw))
            except ValidationError as error:
                log.warning("skipping template %s: %s", path.name, error)
                continue
            meta = graph.meta or graph.metadata
            self.documents[path.stem] = raw
            self.infos.append(TemplateInfo(id=path.stem, name=graph.name, description=meta.description if meta else None))


def _library(request: Request) -> TemplateLibrary:
    library: TemplateLibrary = request.app.state.templates
    return library


async def list_templates(request: Request) -> Response:
    return json_response(TemplateList(templates=_library(request).infos))


async def get_template(request: Request) -> Response:
    template_id = request.path_params["template_id"]
    document = _library(request).documents.get(template_id)
    if document is None:
        raise ApiException(404, "not_found", f"no template with id {template_id!r}")
    return Response(document, media_type="application/json")
