"""Graph → DAG. Pure: the gateway uses it to validate, the orchestrator to run.

It lives beside the models, not inside an actor, because both the gateway (422 answers)
and the orchestrator (compiling a run) need the same verdict, and actors share only
`schemas/` and `bus/`.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from graphlib import CycleError, TopologicalSorter

from pydantic import ValidationError

from .credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN, CREDENTIAL_NAME_RULE, GET_CREDENTIAL
from .dag import Dag, DagStep
from .errors import FieldIssue, WorkflowInvalid, issues_from_validation
from .expressions import MIXED_EXPRESSION, expression_source
from .graph import Graph, TemplateWorkflow, as_graph
from .node_types import NODE_ID_PATTERN, REGISTRY, NodeType


# Nodes a workflow may have (AUTOMATEOS_MAX_GRAPH_NODES): far beyond what anyone draws, and small enough that
# checking, compiling and starting one costs milliseconds, so a huge graph cannot stall other runs.
MAX_GRAPH_NODES = 1000


def check_size(workflow: Graph | TemplateWorkflow, max_nodes: int = MAX_GRAPH_NODES) -> None:
    """Refuse a workflow with more than `max_nodes` nodes: on every path, before anything else looks at it."""
    if isinstance(workflow, TemplateWorkflow):
        count, where = len(workflow.definition.steps) + 1, "graph.definition.steps"
    else:
        count, where = len(workflow.nodes), "graph.nodes"
    if count > max_nodes:
        raise WorkflowInvalid([FieldIssue(
            field=where, reason=f"the workflow has {count} nodes; at most {max_nodes} are allowed "
                                "(AUTOMATEOS_MAX_GRAPH_NODES)")])


# Graphs with more nodes than this compile in a thread (compile_workflow_off_loop): one of 1,000 nodes takes tens of
# milliseconds, which an actor's event loop must not spend while other runs wait.
_COMPILE_INLINE_NODES = 100


async def compile_workflow_off_loop(workflow: Graph | TemplateWorkflow, max_nodes: int = MAX_GRAPH_NODES) -> Dag:
    """compile_workflow for an actor's event loop: the size checked first, large graphs compiled in a thread."""
    check_size(workflow, max_nodes)
    if len(as_graph(workflow).nodes) <= _COMPILE_INLINE_NODES:
        return compile_workflow(workflow, max_nodes)
    return await asyncio.to_thread(compile_workflow, workflow, max_nodes)


def compile_workflow(workflow: Graph | TemplateWorkflow, max_nodes: int = MAX_GRAPH_NODES) -> Dag:
    """Return the DAG in topological order, or raise WorkflowInvalid naming every problem found.

    Problems in a template name the template's own fields (graph.definition.steps[0].config.url).
    """
    check_size(workflow, max_nodes)
    try:
        return _compile(as_graph(workflow))
    except WorkflowInvalid as invalid:
        if isinstance(workflow, TemplateWorkflow):
            raise WorkflowInvalid([_template_path(issue) for issue in invalid.issues]) from None
        raise


_BUILT_NODE = re.compile(r"^graph\.nodes\[(\d+)\](.*)$")


def _template_path(issue: FieldIssue) -> FieldIssue:
    """graph.nodes[2].data.config.url → graph.definition.steps[1].config.url (node 0 is the implicit Start)."""
    match = _BUILT_NODE.match(issue.field)
    if match is None or match.group(1) == "0":
        return issue
    rest = match.group(2).replace(".data.config", ".config", 1).replace(".data.label", ".name", 1)
    return issue.model_copy(update={"field": f"graph.definition.steps[{int(match.group(1)) - 1}]{rest}"})


def _compile(graph: Graph) -> Dag:
    issues: list[FieldIssue] = []
    steps: dict[str, DagStep] = {}
    types: dict[str, NodeType] = {}

    id_counts = Counter(node.id for node in graph.nodes)
    for index, node in enumerate(graph.nodes):
        where = f"graph.nodes[{index}]"
        if not re.fullmatch(NODE_ID_PATTERN, node.id):
            issues.append(FieldIssue(
                field=f"{where}.id", nodeId=node.id,
                reason=f"node id {node.id!r} may use only letters, digits, _ and -, at most 64 characters",
            ))
            continue
        if id_counts[node.id] > 1:
            issues.append(FieldIssue(field=f"{where}.id", reason=f"duplicate node id '{node.id}'", nodeId=node.id))
            continue
        node_type = REGISTRY.get(node.type)
        if node_type is None:
            known = ", ".join(REGISTRY.names())
            issues.append(
                FieldIssue(
                    field=f"{where}.type",
                    reason=f"unknown node type '{node.type}' (known: {known})",
                    nodeId=node.id,
                )
            )
            continue
        try:
            config = node_type.config.model_validate(node.data.config or {})
        except ValidationError as error:
            for issue in issues_from_validation(error, prefix=f"{where}.data.config"):
                issues.append(issue.model_copy(update={"nodeId": node.id}))
            continue
        for field, mode in node_type.templated.items():
            text = getattr(config, field, None)
            if mode == "expression" and isinstance(text, str) and expression_source(text) is None:
                issues.append(FieldIssue(field=f"{where}.data.config.{field}", reason=MIXED_EXPRESSION, nodeId=node.id))
            if node_type.completes not in ("worker", "trigger") and "getCredential" in "\n".join(_strings(text)):
                # What a worker renders for a step the orchestrator completes is kept in the run (a wait's message, a
                # subworkflow's inputs): a secret has no place there, even masked.
                issues.append(FieldIssue(
                    field=f"{where}.data.config.{field}", nodeId=node.id,
                    reason=f"a {node_type.title} step cannot use credentials: what it renders is kept in the run; "
                           "use getCredential in the step that sends the secret"))
            for name in GET_CREDENTIAL.findall("\n".join(_strings(text))):
                if len(name) > CREDENTIAL_NAME_MAX or not re.fullmatch(CREDENTIAL_NAME_PATTERN, name):
                    issues.append(FieldIssue(field=f"{where}.data.config.{field}", nodeId=node.id,
                                             reason=f"getCredential({name[:70]!r}): {CREDENTIAL_NAME_RULE}"))
        types[node.id] = node_type
        steps[node.id] = DagStep(
            id=node.id,
            name=node.data.label or node.id,
            type=node_type.type,
            config=config.model_dump(mode="json", exclude_none=True),
            # Retries and onError belong to steps that act; a trigger or a branch has nothing to retry.
            settings=node.data.settings if node_type.ui.errorHandling else None,
            completes=node_type.completes,
        )

    triggers = [node.id for node in graph.nodes if (t := REGISTRY.get(node.type)) is not None and t.kind == "trigger"]
    titles = {REGISTRY.get(node.type).title for node in graph.nodes if node.id in triggers}  # type: ignore[union-attr]
    trigger_title = " or ".join(sorted(titles)) or "Start"
    if not triggers:
        kinds = [t.title for t in sorted(REGISTRY.all(), key=lambda t: t.order) if t.kind == "trigger"]
        named = ", ".join(kinds[:-1]) + f" or {kinds[-1]}" if len(kinds) > 1 else "".join(kinds)
        issues.append(FieldIssue(field="graph.nodes", reason=f"the workflow needs a trigger: one {named} node"))
    elif len(triggers) > 1:
        issues.append(
            FieldIssue(
                field="graph.nodes",
                reason=f"the workflow has {len(triggers)} {trigger_title} nodes ({', '.join(triggers)}); "
                "keep exactly one trigger",
                nodeId=triggers[1],
            )
        )

    node_ids = set(id_counts)
    edge_counts = Counter(edge.id for edge in graph.edges)
    deps: dict[str, list[str]] = {node_id: [] for node_id in steps}
    branches: dict[str, dict[str, list[str]]] = {node_id: {} for node_id in steps}
    for index, edge in enumerate(graph.edges):
        where = f"graph.edges[{index}]"
        if edge_counts[edge.id] > 1:
            issues.append(FieldIssue(field=f"{where}.id", reason=f"duplicate edge id '{edge.id}'", edgeId=edge.id))
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in node_ids:
                issues.append(
                    FieldIssue(
                        field=f"{where}.{end}",
                        reason=f"edge '{edge.id}' points to unknown node '{node_id}'",
                        edgeId=edge.id,
                    )
                )
        if edge.target in triggers:
            issues.append(
                FieldIssue(
                    field=f"{where}.target",
                    reason=f"edge '{edge.id}' leads into the {trigger_title} node; {trigger_title} cannot have inputs",
                    edgeId=edge.id,
                    nodeId=edge.target,
                )
            )
        handle, problem = _source_handle(edge.sourceHandle, edge.source, types, steps)
        if problem is not None:
            issues.append(FieldIssue(field=f"{where}.sourceHandle", reason=problem, edgeId=edge.id, nodeId=edge.source))
            continue
        if edge.target in deps and edge.source in node_ids:
            if edge.source not in deps[edge.target]:
                deps[edge.target].append(edge.source)
            if handle is not None and handle not in branches[edge.target].setdefault(edge.source, []):
                branches[edge.target][edge.source].append(handle)

    if issues:
        raise WorkflowInvalid(issues)

    order = _topological_order(deps, graph)
    _check_reachable(triggers[0], trigger_title, deps, graph)
    _check_step_references(steps, types, deps, graph)
    bodies = _loop_bodies(steps, types, deps, branches, graph)
    in_loop: dict[str, str] = {}
    for loop_id, body in sorted(bodies.items(), key=lambda item: -len(item[1])):
        for member in body:  # the innermost loop, whose body is smallest, is written last
            in_loop[member] = loop_id
    return Dag(
        workflowName=graph.name,
        steps=[
            steps[node_id].model_copy(update={
                "deps": deps[node_id], "branches": branches[node_id], "reads": _reads(steps[node_id], types[node_id]),
                "body": [step_id for step_id in order if step_id in bodies[node_id]] if node_id in bodies else None,
                "inLoop": in_loop.get(node_id),
            })
            for node_id in order
        ],
    )


def _loop_bodies(steps: dict[str, DagStep], types: dict[str, NodeType], deps: dict[str, list[str]],
                 branches: dict[str, dict[str, list[str]]], graph: Graph) -> dict[str, set[str]]:
    """Each loop's body: every step reachable from its `each` output. A body is closed: no edge leaves it (the
    steps after the loop hang off `done`) and none enters it but from the loop's `each`, so each item's run is the
    body alone, and a step runs either once per item or once per run, never both."""
    children: dict[str, list[str]] = {node_id: [] for node_id in deps}
    for node_id, parents in deps.items():
        for parent in parents:
            children[parent].append(node_id)
    bodies: dict[str, set[str]] = {}
    heads: dict[str, str] = {}
    for loop_id in steps:
        head = types[loop_id].body_output
        if head is None:
            continue
        heads[loop_id] = head
        roots = [child for child in children[loop_id] if head in branches[child].get(loop_id, [])]
        body: set[str] = set()
        frontier = list(roots)
        while frontier:
            node_id = frontier.pop()
            if node_id not in body:
                body.add(node_id)
                frontier.extend(children[node_id])
        bodies[loop_id] = body
    issues = []
    for index, edge in enumerate(graph.edges):
        for loop_id, body in bodies.items():
            inside_source, inside_target = edge.source in body, edge.target in body
            title = steps[loop_id].name
            if inside_source and not inside_target:
                issues.append(FieldIssue(
                    field=f"graph.edges[{index}]", edgeId=edge.id, nodeId=edge.target,
                    reason=f"edge '{edge.id}' leaves the body of loop '{title}': the steps after '{heads[loop_id]}' "
                           "run once per item and may lead only to one another; connect what comes after the loop to "
                           "its other output",
                ))
            elif inside_target and not inside_source and not (edge.source == loop_id
                                                              and edge.sourceHandle == heads[loop_id]):
                issues.append(FieldIssue(
                    field=f"graph.edges[{index}]", edgeId=edge.id, nodeId=edge.target,
                    reason=f"edge '{edge.id}' leads into the body of loop '{title}' from outside it: a step after "
                           f"'{heads[loop_id]}' runs once per item, so only the loop's '{heads[loop_id]}' (or another "
                           "step of its body) may lead to it",
                ))
    if issues:
        raise WorkflowInvalid(issues)
    return bodies



def _source_handle(
    handle: str | None, source: str, types: dict[str, NodeType], steps: dict[str, DagStep]
) -> tuple[str | None, str | None]:
    """(the output an edge leaves from, None) — None for a node's only output — or (None, the problem)."""
    node_type = types.get(source)
    if node_type is None:
        return None, None  # an unknown or invalid source is reported on its own
    offered = node_type.output_handles(steps[source].config)
    if not offered:
        return None, f"node '{source}' ({node_type.title}) has no outputs"
    if len(offered) == 1 and node_type.dynamic_outputs is None:
        if handle in (None, offered[0]):
            return None, None
        return None, f"node '{source}' has one output ('{offered[0]}'), not '{handle}'"
    if handle is None:
        return None, f"an edge from '{source}' ({node_type.title}) must say which output it leaves from: {', '.join(offered)}"
    if handle not in offered:
        return None, f"node '{source}' has no output '{handle}' (its outputs: {', '.join(offered)})"
    return handle, None


def _topological_order(deps: dict[str, list[str]], graph: Graph) -> list[str]:
    sorter: TopologicalSorter[str] = TopologicalSorter()
    position = {node.id: index for index, node in enumerate(graph.nodes)}
    for node in graph.nodes:
        sorter.add(node.id, *deps[node.id])
    try:
        sorter.prepare()
        # Among steps that are ready together, keep the document's order: the run panel lists steps
        # in this order, so it reads as the graph was drawn.
        order: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=position.__getitem__)
            order.extend(ready)
            sorter.done(*ready)
        return order
    except CycleError as error:
        cycle: list[str] = error.args[1]
        index = next(i for i, node in enumerate(graph.nodes) if node.id == cycle[0])
        raise WorkflowInvalid(
            [
                FieldIssue(
                    field=f"graph.nodes[{index}]",
                    reason="the graph has a cycle: " + " → ".join(reversed(cycle)),
                    nodeId=cycle[0],
                )
            ]
        ) from None


def _check_reachable(start: str, title: str, deps: dict[str, list[str]], graph: Graph) -> None:
    children: dict[str, list[str]] = {node_id: [] for node_id in deps}
    for node_id, parents in deps.items():
        for parent in parents:
            children[parent].append(node_id)
    seen = {start}
    frontier = [start]
    while frontier:
        for child in children[frontier.pop()]:
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    issues = [
        FieldIssue(
            field=f"graph.nodes[{index}]",
            reason=f"node '{node.id}' is not reachable from {title}; connect it or remove it",
            nodeId=node.id,
        )
        for index, node in enumerate(graph.nodes)
        if node.id not in seen
    ]
    if issues:
        raise WorkflowInvalid(issues)


# `steps.http_1` and `steps['any-id']` inside a template: which steps a config reads.
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
# A dotted path at the start of an expression: payload.title, inputs.x, databaseId; a call is not an input.
_LEADING_PATH = re.compile(r"^\s*([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*(\()?")
_NOT_INPUTS = {"steps", "payload", "true", "false", "none", "True", "False", "None", "not", "loop", "range"}


def run_inputs(dag: Dag) -> list[str]:
    """The run inputs a workflow's templates read (`databaseId`, `customer.email`), in run order, one per input;
    a path that is the prefix of another (`customer` beside `customer.email`) is left out. `inputs.x` is `x`.
    `payload…` is never one: it is what the trigger brings (a webhook's request, a schedule's tick, a trigger's
    sample payload on a manual run), not something to ask the user for."""
    found: dict[str, None] = {}
    for step in dag.steps:
        node_type = REGISTRY.get(step.type)
        for field, mode in node_type.templated.items() if node_type is not None else ():
            for text in _strings(step.config.get(field)):
                bare = expression_source(text) if mode == "expression" else None
                for expression in [bare] if bare is not None else _EXPRESSION.findall(text):
                    match = _LEADING_PATH.match(expression)
                    if match is None or match.group(2):
                        continue
                    path = re.sub(r"\s+", "", match.group(1))
                    name = path.removeprefix("inputs.")
                    if path == "inputs" or path.split(".")[0] in _NOT_INPUTS or name.split(".")[0] in _NOT_INPUTS:
                        continue
                    found.setdefault(name, None)
    return [path for path in found if not any(other.startswith(path + ".") for other in found)]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


_STEP_REFERENCE = re.compile(r"""steps\s*(?:\.\s*([A-Za-z0-9_]+)|\[\s*['"]([^'"]+)['"]\s*\])""")


def _referenced_steps(value: object) -> set[str]:
    if isinstance(value, str):
        return {dotted or quoted for dotted, quoted in _STEP_REFERENCE.findall(value)} if "steps" in value else set()
    if isinstance(value, dict):
        return set().union(*(_referenced_steps(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_referenced_steps(v) for v in value)) if value else set()
    return set()


_STEPS_WORD = re.compile(r"\bsteps\b")
# In a script, a function's `arguments` reach `steps` without naming it.
_ARGUMENTS_WORD = re.compile(r"\barguments\b")


def _reads(step: DagStep, node_type: NodeType) -> list[str] | None:
    """The steps a step's templates (and scripts) read by name, so its dispatch carries only their outputs. None
    when one mentions `steps` in any other way (`steps | tojson`, `steps[name]`, `Object.keys(steps)`): then it gets
    every earlier one."""
    reads: set[str] = set()
    for field in (*node_type.templated, *node_type.script_fields):
        for text in _strings(step.config.get(field)):
            named = _STEP_REFERENCE.findall(text)
            if len(_STEPS_WORD.findall(text)) > len(named):
                return None
            if field in node_type.script_fields and _ARGUMENTS_WORD.search(text):
                return None
            reads |= {dotted or quoted for dotted, quoted in named}
    return sorted(reads)


def _check_step_references(
    steps: dict[str, DagStep], types: dict[str, NodeType], deps: dict[str, list[str]], graph: Graph
) -> None:
    """A template may read only steps that run before it: a step offers its output to its descendants only,
    so anything else fails at run time ("not defined"). Say so now, naming the field."""
    ancestors: dict[str, set[str]] = {}

    def before(node_id: str) -> set[str]:
        if node_id not in ancestors:
            ancestors[node_id] = set()
            for parent in deps[node_id]:
                ancestors[node_id] |= {parent} | before(parent)
        return ancestors[node_id]

    issues = []
    for index, node in enumerate(graph.nodes):
        if node.id not in steps:
            continue
        config = steps[node.id].config
        for field in types[node.id].templated:
            for referenced in sorted(_referenced_steps(config.get(field))):
                if referenced in before(node.id):
                    continue
                if referenced not in steps:
                    reason = f"reads steps.{referenced}, but there is no step '{referenced}'"
                elif referenced == node.id:
                    reason = "reads its own output, which does not exist yet"
                else:
                    reason = (f"reads steps.{referenced}, which does not run before this step (connect "
                              f"'{referenced}' ahead of it, or pick a step that does)")
                issues.append(FieldIssue(field=f"graph.nodes[{index}].data.config.{field}", reason=reason, nodeId=node.id))
    if issues:
        raise WorkflowInvalid(issues)
