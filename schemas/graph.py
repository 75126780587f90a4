"""The workflow documents a user draws or imports: builder graphs and templates."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ._base import Contract
from .limits import SHALLOW
from .node_types import REGISTRY, NodeSettings


class Position(Contract):
    x: float = 0.0
    y: float = 0.0


class NodeData(Contract):
    label: str | None = None
    config: Annotated[dict[str, Any] | None, SHALLOW] = None
    settings: NodeSettings | None = Field(default=None, description="retries and onError, for action nodes")
    samplePayload: Annotated[Any, SHALLOW] = Field(
        default=None, description="webhook and schedule triggers: the payload a manual run of the draft uses"
    )


class Node(Contract):
    id: str = Field(min_length=1, max_length=128)
    type: str = Field(min_length=1)
    position: Position = Field(default_factory=Position)
    data: NodeData = Field(default_factory=NodeData)


class Edge(Contract):
    id: str = Field(min_length=1, max_length=128)
    source: str
    target: str
    sourceHandle: str | None = None
    targetHandle: str | None = None
    type: str | None = None
    data: dict[str, Any] | None = None


class GraphMeta(Contract):
    name: str = "Untitled workflow"
    version: int | str | None = None
    exportedAt: str | None = None
    description: str | None = None


class Graph(Contract):
    """The builder format: React Flow nodes and edges plus a name."""

    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)
    meta: GraphMeta | None = None
    metadata: GraphMeta | None = Field(default=None, description="Legacy spelling of meta; accepted on input.")

    @property
    def name(self) -> str:
        for meta in (self.meta, self.metadata):
            if meta is not None:
                return meta.name
        return GraphMeta().name


class TemplateStep(Contract):
    type: str = Field(min_length=1)  # becomes a Node's type, which may not be empty either
    name: str | None = None
    config: Annotated[dict[str, Any], SHALLOW] = Field(default_factory=dict)


class TemplateDefinition(Contract):
    steps: list[TemplateStep] = Field(min_length=1)


class TemplateWorkflow(Contract):
    """The template format: a linear list of steps, run after an implicit Start."""

    name: str = "Untitled workflow"
    description: str | None = None
    definition: TemplateDefinition



_COLUMN_WIDTH = 260.0


def template_to_graph(template: TemplateWorkflow) -> Graph:
    """Turn a template into Start → step → step …, laid out left to right."""
    nodes = [Node(id="start", type="start", position=Position(x=0, y=0), data=NodeData(label="Start"))]
    edges: list[Edge] = []
    previous = "start"
    for index, step in enumerate(template.definition.steps, start=1):
        node_id = f"step_{index}"  # a template identifier: {{steps.step_1.output}} works
        nodes.append(
            Node(
                id=node_id,
                type=_node_type_name(step.type),
                position=Position(x=_COLUMN_WIDTH * index, y=0),
                data=NodeData(label=step.name or f"Step {index}", config=step.config),
            )
        )
        edges.append(Edge(id=f"e-{previous}-{node_id}", source=previous, target=node_id))
        previous = node_id
    meta = GraphMeta(name=template.name, version=1, description=template.description)
    return Graph(nodes=nodes, edges=edges, meta=meta)


def as_graph(workflow: Graph | TemplateWorkflow) -> Graph:
    return template_to_graph(workflow) if isinstance(workflow, TemplateWorkflow) else workflow


def _node_type_name(step_type: str) -> str:
    """Template steps may use an alias (http_request_node); the graph names the node type itself."""
    node_type = REGISTRY.get(step_type)
    return node_type.type if node_type is not None else step_type
