"""What a node type is, and the registry every actor and the builder read node types from.

A node type is declared once (`NodeType`): the compiler validates configs with its model, the engine
finds its executor by its name, and the builder draws its palette entry, handles and form from what
`GET /v1/node-types` serves of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from .._base import Contract
from .settings import NodeSettings

NodeKind = Literal["trigger", "action", "logic"]
# How a step of this type completes; the orchestrator dispatches on it (orchestrator/completions/):
# - worker: an engine worker executes it (HTTP, If, Set, code…);
# - trigger: at once when the run starts, its output the run's payload (Start, Webhook, Schedule);
# - timer, event: in the orchestrator, when a timer fires (Delay) or something from outside arrives (Wait), holding
#   no worker while it waits;
# - children: by child work, runs of its own (the items of a Loop, the run a Subworkflow starts).
# Every type but `worker` and `trigger` has an orchestrator handler of its name. One with templated fields has them
# rendered by a worker first (the engine alone renders templates: credentials and outputs are read there).
Completion = Literal["worker", "trigger", "timer", "event", "children"]
# How the engine fills in a templated field: `text` renders every string inside it as text; `value`
# keeps the type of a value that is exactly one {{ expression }} (a number stays a number); `expression`
# is `value`, and text with no {{ }} at all is read as one expression (`amount > 500`).
# After rendering, `value` and `expression` fields hold whatever type their expression gave.
TemplateMode = Literal["text", "value", "expression"]
Widget = Literal[
    "text", "textarea", "number", "select", "switch", "keyValue", "json", "body", "credential", "expression",
    "list", "valueMap", "signature", "code", "workflow", "mcpTool", "workflows", "mcpServers",
]


class Handle(Contract):
    id: str
    label: str = ""


class FieldUi(Contract):
    """How the builder draws one config field."""

    widget: Widget
    label: str
    order: int = 0
    placeholder: str | None = None
    help: str | None = None
    templated: bool = False
    monospace: bool = False
    aliases: list[str] = Field(default_factory=list, description="other config keys whose errors belong here")
    optionLabels: dict[str, str] = Field(
        default_factory=dict, description="what a select shows for each enum value (the value itself when absent)"
    )


class DynamicOutputs(Contract):
    """Output handles made from a config field: one per value of the list `field`, then `extra`; or, with
    `byValue`, the handles listed under the field's value (a select: Wait's `resume` decides its outputs)."""

    field: str
    extra: list[Handle] = Field(default_factory=list)
    byValue: dict[str, list[Handle]] | None = None


class NodeUi(Contract):
    glyph: str
    accent: str
    defaultLabel: str
    summary: str = Field(default="", description="canvas line: {field} is replaced by that config field's value (an "
                         "option's label where it has one); a|b shows the first alternative whose fields are all set")
    fields: dict[str, FieldUi] = Field(default_factory=dict)
    errorHandling: bool = Field(default=False, description="the node takes data.settings: retry and onError")
    idPrefix: str = Field(description="ids the builder makes for new nodes: <idPrefix>_<n>")
    defaults: dict[str, Any] = Field(default_factory=dict, description="the config of a node just added")
    outputFields: dict[str, str] = Field(
        default_factory=dict, description="what a step of this type outputs, field -> meaning: offered by Insert variable"
    )
    outputFieldsFrom: str | None = Field(default=None, description="a config object whose keys are output fields (set)")


class NodeTypeInfo(Contract):
    """One entry of GET /v1/node-types."""

    type: str
    aliases: list[str] = Field(default_factory=list, description="other names accepted on input")
    kind: NodeKind
    title: str
    description: str
    version: int
    inputs: list[Handle]
    outputs: list[Handle]
    dynamicOutputs: DynamicOutputs | None = None
    configSchema: dict[str, Any]
    templatedFields: list[str]
    credentialFields: list[str]
    completes: Completion = Field(default="worker", description="how its step completes: in a worker, at the run's "
                                  "start (trigger), on a timer, on an outside event, or by child runs")
    ui: NodeUi


class NodeTypeList(Contract):
    """GET /v1/node-types."""

    nodeTypes: list[NodeTypeInfo]
    settingsSchema: dict[str, Any] = Field(
        description="JSON Schema of data.settings (retry, onError), for node types whose ui.errorHandling is true"
    )


ConfigModel = type[Contract]  # named here: inside NodeType, `type` is a field

DEFAULT_INPUT = Handle(id="in")
DEFAULT_OUTPUT = Handle(id="out")


@dataclass(frozen=True)
class NodeType:
    """One node type, declared once. `templated` maps config fields to how {{ }} in them is rendered;
    `credential_fields` are fields that name a stored credential, as an object {credentialName} (HTTP's `auth`,
    which may grow other keys) or as the name itself (a top-level `credentialName: str`); `script_fields` hold code
    that reads `steps` itself (a code step's JavaScript): the compiler finds the steps they name, as in templates,
    so a dispatch carries those steps' outputs (all earlier ones when the code reads `steps` any other way)."""

    type: str
    kind: NodeKind
    title: str
    description: str
    config: ConfigModel
    ui: NodeUi
    version: int = 1
    inputs: tuple[Handle, ...] = (DEFAULT_INPUT,)
    outputs: tuple[Handle, ...] = (DEFAULT_OUTPUT,)
    dynamic_outputs: DynamicOutputs | None = None
    templated: dict[str, TemplateMode] = field(default_factory=dict)
    credential_fields: tuple[str, ...] = ()
    # A type whose handler sends its step to workers more than once in an attempt (StepDispatch.call): the config
    # model of one such call, which is what such a dispatch carries (never rendered: it holds no templates).
    call_config: ConfigModel | None = None
    script_fields: tuple[str, ...] = ()
    completes: Completion = "worker"
    # The output whose steps are a body run once per item, as child runs (a loop's `each`); None: no body.
    body_output: str | None = None
    aliases: tuple[str, ...] = ()
    order: int = 100  # place in the builder's palette
    # A pinned step of a branching type (POST /v1/runs pinData): the outputs it takes, read off its pinned output
    # as its executor or handler would decide them, from (config, output); a ValueError says what the pin lacks.
    # None: a pin takes every output (a type with one).
    pinned_handles: Callable[[dict[str, Any], Any], list[str]] | None = None

    def credential_names(self, config: dict[str, Any]) -> set[str]:
        """The stored credentials this config's credential fields name, in either shape (see the class)."""
        names: set[str] = set()
        for name in self.credential_fields:
            reference = config.get(name)
            # A list of objects naming one each (an agent's mcpServers).
            for each in reference if isinstance(reference, list) else [reference]:
                if isinstance(each, dict):
                    each = each.get("credentialName")
                if isinstance(each, str) and each:
                    names.add(each)
        return names

    def output_handles(self, config: dict[str, Any]) -> list[str]:
        """The handle ids a node with this config offers, in order."""
        if self.dynamic_outputs is None:
            return [h.id for h in self.outputs]
        if self.dynamic_outputs.byValue is not None:
            chosen = config.get(self.dynamic_outputs.field)
            return [h.id for h in self.dynamic_outputs.byValue.get(str(chosen), list(self.outputs))]
        values = config.get(self.dynamic_outputs.field) or []
        return [str(v) for v in values] + [h.id for h in self.dynamic_outputs.extra]

    def info(self) -> NodeTypeInfo:
        return NodeTypeInfo(
            type=self.type, aliases=list(self.aliases), kind=self.kind, title=self.title, description=self.description, version=self.version,
            inputs=list(self.inputs), outputs=list(self.outputs), dynamicOutputs=self.dynamic_outputs,
            configSchema=self.config.model_json_schema(mode="validation"),
            templatedFields=list(self.templated), credentialFields=list(self.credential_fields),
            completes=self.completes, ui=self.ui,
        )


class NodeRegistry:
    """Node types by name (and by alias). Registration is open so a test, or a plugin, can add one."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}
        self._aliases: dict[str, str] = {}

    def register(self, node_type: NodeType) -> NodeType:
        self._types[node_type.type] = node_type
        for alias in node_type.aliases:
            self._aliases[alias] = node_type.type
        return node_type

    def unregister(self, type_name: str) -> None:
        node_type = self._types.pop(type_name, None)
        for alias in node_type.aliases if node_type else ():
            self._aliases.pop(alias, None)

    def get(self, type_name: str) -> NodeType | None:
        return self._types.get(self._aliases.get(type_name, type_name))

    def names(self) -> list[str]:
        return sorted(self._types)

    def all(self) -> list[NodeType]:
        return list(self._types.values())

    def catalogue(self) -> NodeTypeList:
        ordered = sorted(self._types.values(), key=lambda t: t.order)
        return NodeTypeList(
            nodeTypes=[t.info() for t in ordered], settingsSchema=NodeSettings.model_json_schema(mode="validation")
        )


REGISTRY = NodeRegistry()
