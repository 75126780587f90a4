"""The workflow documents a user draws or imports: builder graphs and templates."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from ._base import Contract
from .credentials import GET_CREDENTIAL, AllowedHosts
from .limits import SHALLOW, shallow
from .masking import mask_fields
from .node_types import REGISTRY, NodeSettings


class Position(Contract):
    x: float = 0.0
    y: float = 0.0


class NodeData(Contract):
    label: str | None = None
    # Typed as nullable so the published schemas (RunRequested among them) keep accepting null; never null once read.
    config: dict[str, Any] | None = Field(default_factory=dict)
    settings: NodeSettings | None = Field(default=None, description="retries and onError, for action nodes",
                                          exclude_if=lambda value: value is None)
    samplePayload: Annotated[Any, SHALLOW] = Field(
        default=None, description="webhook and schedule triggers: the payload a manual run of the draft uses",
        exclude_if=lambda value: value is None,
    )
    pinned: Annotated[Any, SHALLOW] = Field(
        default=None, description="a step's pinned sample output: the builder's Run and Test step use it instead of "
        "running the step (sent as POST /v1/runs pinData); webhook and schedule runs never do. A trigger's pin is its "
        "samplePayload", exclude_if=lambda value: value is None,
    )

    @field_validator("config")
    @classmethod
    def _no_config_is_empty(cls, config: dict[str, Any] | None) -> dict[str, Any]:
        # Older saves and other tools write `config: null`; it means "nothing set", and is answered as {} so no
        # reader (the builder's checks among them) has to tell null from an empty object.
        return {} if config is None else shallow(config)

    @field_validator("pinned", "samplePayload")
    @classmethod
    def _pins_hold_no_secret(cls, pinned: Any) -> Any:
        # A pin (a trigger's is its sample payload) is kept with the workflow, its versions and its exports: masked as
        # a run's outputs are (a pasted `Authorization` header, a field named like a token), so editing one cannot
        # store a secret. Found by the security review for sample payloads.
        return mask_fields(pinned)


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


class CredentialSuggestion(Contract):
    """What a template suggests for a credential it uses, when the builder offers to add it."""

    allowedHosts: AllowedHosts = Field(default_factory=list)


class GraphMeta(Contract):
    name: str = "Untitled workflow"
    version: int | str | None = None
    exportedAt: str | None = None
    description: str | None = None
    credentials: dict[str, CredentialSuggestion] | None = Field(
        default=None, description="suggestions for the credentials the workflow uses, by name (templates fence "
        "theirs to their API's host)")


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

    def credential_names(self) -> set[str]:
        """The stored credentials this graph names: in a credential field (`NodeType.credential_names`) or as
        getCredential('name') in a template. Read from the text, not rendered: the gateway asks this before a
        credential is deleted, where naming one a template only mentions is the safe side."""
        names: set[str] = set()
        for node in self.nodes:
            node_type = REGISTRY.get(node.type)
            config = node.data.config or {}
            if node_type is None:
                continue
            names.update(node_type.credential_names(config))
            for field in node_type.templated:
                names.update(GET_CREDENTIAL.findall(_text_of(config.get(field))))
        return names


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



def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_text_of(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_text_of(v) for v in value)
    return ""


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
