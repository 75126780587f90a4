"""POST /v1/import: an n8n workflow, a Node-RED flow or our own export, turned into a graph and a report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from ._base import Contract
from .graph import Graph
from .limits import SHALLOW

ImportSource = Literal["n8n", "node-red", "automateos"]
ImportStatus = Literal["converted", "review", "unsupported"]


class ImportRequest(Contract):
    document: Annotated[Any, SHALLOW] = Field(
        description="the exported workflow: an n8n workflow (nodes[] and connections), a Node-RED flow (an array of "
                    "nodes) or an AutomateOS workflow (nodes[] and edges[])")
    source: ImportSource | None = Field(default=None, description="the document's format; detected when omitted")


class ImportedFrom(Contract):
    type: str = Field(description="the source node's type, as the source tool names it")
    name: str = Field(description="the source node's name (its id when it has none)")


class ImportedNode(Contract):
    model_config = ConfigDict(**Contract.model_config, serialize_by_alias=True)

    id: str | None = Field(description="the node's id in the imported graph; null when it was dropped")
    from_: ImportedFrom = Field(alias="from", serialization_alias="from")
    status: ImportStatus
    notes: list[str] = Field(default_factory=list)


class ImportReport(Contract):
    converted: int = Field(description="source nodes converted with the same meaning")
    review: int = Field(description="source nodes converted, to check before running")
    unsupported: int = Field(description="source nodes with no counterpart (placeholders or dropped)")
    nodes: list[ImportedNode]


class ImportResponse(Contract):
    name: str
    source: ImportSource
    graph: Graph
    report: ImportReport
