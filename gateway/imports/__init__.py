"""Import workflows from other tools: detect the format, convert, report. Pure: no I/O, no bus."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from schemas import FieldIssue, Graph, TemplateWorkflow, WorkflowInvalid, as_graph, compile_workflow
from schemas.errors import issues_from_validation
from schemas.imports import ImportResponse, ImportSource

from . import n8n, node_red
from .report import Report

log = logging.getLogger(__name__)
T = TypeVar("T")

EXPECTED = ("an n8n workflow (an object with nodes[] and connections), a Node-RED flow (an array of nodes, each with "
            "id, type and wires) or an AutomateOS workflow (an object with nodes[] and edges[])")


class ImportRejected(Exception):
    """The document is not a workflow of the kind expected: a 422 naming the field and what was expected."""

    def __init__(self, issues: list[FieldIssue], message: str = "the document is not a workflow that can be imported"):
        super().__init__(message)
        self.issues = issues
        self.message = message


def _reject(reason: str, field: str = "document") -> ImportRejected:
    return ImportRejected([FieldIssue(field=field, reason=reason)])


def _node_red_flow(document: Any) -> list[dict[str, Any]] | None:
    if isinstance(document, dict) and isinstance(document.get("flows"), list):
        document = document["flows"]  # the editor's /flows answer: {rev, flows}
    if isinstance(document, list) and document and all(isinstance(n, dict) for n in document) and all(
            "type" in n for n in document) and any("wires" in n for n in document):
        return document
    return None


def detect(document: Any) -> ImportSource | None:
    if isinstance(document, dict):
        if isinstance(document.get("nodes"), list) and isinstance(document.get("connections"), dict):
            return "n8n"
        if isinstance(document.get("nodes"), list) and ("edges" in document or "meta" in document) \
                or isinstance(document.get("definition"), dict) or isinstance(document.get("graph"), dict):
            return "automateos"
    if _node_red_flow(document) is not None:
        return "node-red"
    return None


def import_document(document: Any, source: ImportSource | None = None) -> ImportResponse:
    if not isinstance(document, (dict, list)):
        raise _reject(f"is {type(document).__name__ if document is not None else 'null'}; expected {EXPECTED}")
    if isinstance(document, list) and not document or isinstance(document, dict) and not document:
        raise _reject(f"is empty; expected {EXPECTED}")
    detected = detect(document)
    if source is None:
        if detected is None:
            raise _reject(f"is not a workflow this server can read; expected {EXPECTED}")
        source = detected
    if source == "n8n":
        if not (isinstance(document, dict) and isinstance(document.get("nodes"), list)):
            raise _reject("is not an n8n workflow: expected an object with nodes[] and connections")
        nodes = [n for n in document["nodes"] if isinstance(n, dict)]
        if not nodes:
            raise _reject("has no nodes: expected an n8n workflow with at least one node", "document.nodes")
        name, graph, report = _guarded(n8n.convert, document, "an n8n workflow")
    elif source == "node-red":
        flow = _node_red_flow(document)
        if flow is None:
            if isinstance(document, list) and all(isinstance(n, dict) and n.get("type") in ("tab", "subflow")
                                                  for n in document):
                raise _reject("is an empty flow: it has no nodes, only tabs; expected a Node-RED flow with nodes")
            raise _reject("is not a Node-RED flow: expected an array of nodes, each with id, type and wires")
        name, graph, report = _guarded(node_red.convert, flow, "a Node-RED flow")
    else:
        return _automateos(document)
    return ImportResponse(name=name, source=source, graph=graph, report=report.build())


def _guarded(convert: Callable[[T], tuple[str, Graph, Report]], document: T, what: str) -> tuple[str, Graph, Report]:
    """Quirks are reported by the converters; a document so malformed that one fails anyway is answered as not
    being the workflow expected, never as a server error."""
    try:
        return convert(document)
    except Exception as error:  # noqa: BLE001 - any shape a document can take must end in an answer
        log.warning("import: %s could not be converted", what, exc_info=True)
        raise _reject(f"looks like {what} but could not be read ({type(error).__name__}: {str(error)[:200]}); "
                      f"expected {EXPECTED}") from None


def _automateos(document: Any) -> ImportResponse:
    if not isinstance(document, dict):
        raise _reject("is not an AutomateOS workflow: expected an object with nodes[] and edges[]")
    name_hint = document.get("name") if isinstance(document.get("name"), str) else None
    if isinstance(document.get("graph"), dict):  # a saved workflow as GET /v1/workflows/{id} answers it
        document = document["graph"]
    try:
        workflow: Graph | TemplateWorkflow = (TemplateWorkflow.model_validate(document) if "definition" in document
                                              else Graph.model_validate(document))
    except ValidationError as error:
        raise ImportRejected(issues_from_validation(error, prefix="document"),
                             "the document is not a valid AutomateOS workflow") from None
    graph = as_graph(workflow)
    if not graph.nodes:
        raise _reject("has no nodes: expected a workflow with at least a trigger", "document.nodes")
    try:
        compile_workflow(graph)
    except WorkflowInvalid as invalid:
        issues = [issue.model_copy(update={"field": "document." + issue.field.removeprefix("graph.")})
                  for issue in invalid.issues]
        raise ImportRejected(issues, "the AutomateOS workflow does not validate") from None
    report = Report()
    for node in graph.nodes:
        entry = report.add(node.type, node.data.label or node.id)
        entry.id = node.id
    name = graph.name if (graph.meta or graph.metadata) else (name_hint or graph.name)
    return ImportResponse(name=name, source="automateos", graph=graph, report=report.build())
