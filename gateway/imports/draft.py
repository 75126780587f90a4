"""A graph being imported: nodes and edges as the converters make them, then repaired until the compiler accepts
it. Whatever cannot be represented (a second trigger, a cycle, an edge into a loop's body from outside it) is cut,
and the report says so on the node concerned."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas import Edge, FieldIssue, Graph, GraphMeta, Node, NodeData, Position, WorkflowInvalid, compile_workflow
from schemas.node_types import REGISTRY, NodeSettings

from .report import Entry, Report

_TRIGGER_PREFERENCE = {"webhook": 0, "schedule": 1, "start": 2}
_MAX_REPAIRS = 50


@dataclass
class DraftNode:
    id: str
    type: str
    label: str
    x: float
    y: float
    config: dict[str, Any]
    entry: Entry
    settings: NodeSettings | None = None


@dataclass
class DraftEdge:
    source: str
    target: str
    handle: str | None = None
    order: int = 0  # the input slot on the target (a merge's inputs keep their order)


@dataclass
class Draft:
    name: str
    report: Report = field(default_factory=Report)
    nodes: dict[str, DraftNode] = field(default_factory=dict)
    edges: list[DraftEdge] = field(default_factory=list)

    # ---- building
    def new_id(self, wanted: str, prefix: str) -> str:
        """An id from a source name: letters, digits and _ (so `steps.<id>` reads it), unique, at most 64."""
        slug = re.sub(r"[^A-Za-z0-9_]+", "_", wanted).strip("_").lower()[:48]
        if not slug or slug[0].isdigit():
            slug = f"{prefix}_{slug}" if slug else prefix
        candidate, n = slug, 2
        while candidate in self.nodes:
            candidate, n = f"{slug}_{n}", n + 1
        return candidate

    def add(self, entry: Entry, type_: str, config: dict[str, Any], x: float, y: float,
            settings: NodeSettings | None = None, node_id: str | None = None) -> DraftNode:
        found = REGISTRY.get(type_)
        prefix = found.ui.idPrefix if found is not None else "node"
        node = DraftNode(id=node_id or self.new_id(entry.name, prefix), type=type_, label=entry.name[:200], x=x, y=y,
                         config=config, entry=entry, settings=settings)
        entry.id = node.id
        self.nodes[node.id] = node
        return node

    def connect(self, source: str, target: str, handle: str | None = None, order: int = 0) -> None:
        if any(e.source == source and e.target == target and e.handle == handle for e in self.edges):
            return
        self.edges.append(DraftEdge(source, target, handle, order))

    def parents(self, node_id: str) -> list[DraftEdge]:
        return [e for e in self.edges if e.target == node_id]

    def children(self, node_id: str) -> list[DraftEdge]:
        return [e for e in self.edges if e.source == node_id]

    def drop(self, node_id: str, note: str, *, bridge: bool = True) -> None:
        """Remove a node; with `bridge`, its parents connect to its children (a pass-through node)."""
        node = self.nodes.pop(node_id)
        node.entry.id = None
        node.entry.note(note)
        ins, outs = self.parents(node_id), self.children(node_id)
        self.edges = [e for e in self.edges if node_id not in (e.source, e.target)]
        if bridge:
            for parent in ins:
                for child in outs:
                    self.connect(parent.source, child.target, parent.handle, child.order)

    def placeholder(self, entry: Entry, x: float, y: float, why: str, node_id: str | None = None) -> DraftNode:
        """A node with no counterpart: a code step that fails, saying what to replace, so the shape is kept and a
        run never passes over it silently."""
        message = json.dumps(f"{entry.type} '{entry.name}' was not imported: {why}. Replace this step.")
        entry.note(f"kept as a placeholder code step that fails when run: {why}", "unsupported")
        return self.add(entry, "code", {"language": "javascript", "code": f"throw new Error({message});"}, x, y,
                        node_id=node_id)

    # ---- repairing
    def _trigger(self) -> str:
        triggers = [n for n in self.nodes.values() if _is_trigger(n.type)]
        if not triggers:
            entry = self.report.add("(none)", "Start")
            entry.note("added: the source had no trigger this tool can run; a manual Start begins the workflow")
            xs = [n.x for n in self.nodes.values()] or [0.0]
            ys = [n.y for n in self.nodes.values()] or [0.0]
            return self.add(entry, "start", {}, min(xs) - 260, min(ys)).id
        # Prefer a trigger that starts something, then webhook over schedule over manual.
        triggers.sort(key=lambda n: (not self.children(n.id), _TRIGGER_PREFERENCE.get(n.type, 9)))
        kept = triggers[0]
        for other in triggers[1:]:
            for edge in self.children(other.id):
                self.connect(kept.id, edge.target, None, edge.order)
            other.entry.review(f"a workflow has one trigger: this one was dropped and what it started now follows "
                               f"'{kept.label}' ({kept.id}); import it separately to keep it")
            self.drop(other.id, "dropped (second trigger)", bridge=False)
        for edge in self.parents(kept.id):
            self.cut(edge, "a trigger has no inputs")
        return kept.id

    def cut(self, edge: DraftEdge, why: str) -> None:
        if edge not in self.edges:
            return
        self.edges.remove(edge)
        source = self.nodes.get(edge.source)
        target = self.nodes.get(edge.target)
        where = f"the connection from '{source.label if source else edge.source}' to " \
                f"'{target.label if target else edge.target}' was cut: {why}"
        if source is not None:
            source.entry.review(where)
        elif target is not None:
            target.entry.review(where)

    def _cut_cycles(self, trigger: str) -> None:
        """Depth-first from the trigger (then from any node not reached): an edge back to a node on the current path
        closes a cycle, and is cut."""
        state: dict[str, int] = {}  # 1 on the path, 2 done

        def visit(start: str) -> None:
            stack: list[tuple[str, list[DraftEdge]]] = [(start, list(self.children(start)))]
            state[start] = 1
            while stack:
                node_id, pending = stack[-1]
                if not pending:
                    state[node_id] = 2
                    stack.pop()
                    continue
                edge = pending.pop(0)
                seen = state.get(edge.target)
                if seen == 1:
                    into = self.nodes[edge.target]
                    why = ("the loop runs its body once per item itself" if into.type == "loop"
                           else "it closed a cycle, and a workflow here runs each step once (a Loop repeats steps)")
                    self.cut(edge, why)
                elif seen is None and edge.target in self.nodes:
                    state[edge.target] = 1
                    stack.append((edge.target, list(self.children(edge.target))))

        for loop in [n for n in self.nodes.values() if n.type == "loop"]:
            body = self._reach([e.target for e in self.children(loop.id) if e.handle == "each"], stop=loop.id)
            for edge in self.parents(loop.id):
                if edge.source in body or edge.source == loop.id:
                    self.cut(edge, "the loop runs its body once per item itself")
        visit(trigger)
        for node_id in sorted(self.nodes, key=lambda n: bool(self.parents(n))):
            if node_id not in state:
                visit(node_id)

    def _reach(self, starts: list[str], stop: str) -> set[str]:
        def onward(node_id: str) -> list[str]:
            return [e.target for e in self.children(node_id) if e.target != stop and e.target in self.nodes]
        return reachable([s for s in starts if s != stop and s in self.nodes], onward)

    def _loop_bodies(self) -> None:
        """A loop's body is what its 'each' reaches; edges that leave it or enter it from elsewhere are cut."""
        for loop in [n for n in self.nodes.values() if n.type == "loop"]:
            body = self._reach([e.target for e in self.children(loop.id) if e.handle == "each"], stop=loop.id)
            for edge in list(self.edges):
                if edge.source in body and edge.target not in body:
                    self.cut(edge, f"it left the body of loop '{loop.label}' (the steps after 'each' run per item; "
                                   "what follows the loop hangs off 'done')")
                elif edge.target in body and edge.source not in body and not (
                        edge.source == loop.id and edge.handle == "each"):
                    self.cut(edge, f"it entered the body of loop '{loop.label}' from outside it")

    def _link_orphans(self, trigger: str) -> None:
        for node in list(self.nodes.values()):
            if node.id != trigger and not self.parents(node.id):
                self.connect(trigger, node.id)
                node.entry.note(f"had no input: now follows the trigger ({trigger})")

    def graph(self) -> Graph:
        edges, used = [], set()
        for index, edge in enumerate(sorted(self.edges, key=lambda e: (e.target, e.order))):
            edge_id = f"e-{edge.source}-{edge.handle or 'out'}-{edge.target}"
            if edge_id in used:
                edge_id = f"{edge_id}-{index}"
            used.add(edge_id)
            edges.append(Edge(id=edge_id[:128], source=edge.source, target=edge.target, sourceHandle=edge.handle))
        nodes = [Node(id=n.id, type=n.type, position=Position(x=n.x, y=n.y),
                      data=NodeData(label=n.label, config=n.config, settings=n.settings))
                 for n in self.nodes.values()]
        return Graph(nodes=nodes, edges=edges, meta=GraphMeta(name=self.name[:200] or "Imported workflow"))

    def finish(self) -> Graph:
        trigger = self._trigger()
        self._cut_cycles(trigger)
        self._loop_bodies()
        self._link_orphans(trigger)
        for _ in range(_MAX_REPAIRS):
            graph = self.graph()
            try:
                compile_workflow(graph)
                return graph
            except WorkflowInvalid as invalid:
                if not self._repair(graph, invalid.issues, trigger):
                    break
        # Nothing left to repair by cutting: keep the trigger alone rather than answer an invalid graph.
        for node_id in [n for n in self.nodes if n != trigger]:
            self.nodes[node_id].entry.note("dropped: the imported graph would not validate with it", "unsupported")
            self.drop(node_id, "dropped", bridge=False)
        return self.graph()

    def _repair(self, graph: Graph, issues: list[FieldIssue], trigger: str) -> bool:
        repaired = False
        by_edge_id = {e.id: (e.source, e.sourceHandle, e.target) for e in graph.edges}
        for issue in issues:
            if issue.edgeId is not None and issue.edgeId in by_edge_id:
                source, handle, target = by_edge_id[issue.edgeId]
                for edge in [e for e in self.edges if (e.source, e.handle, e.target) == (source, handle, target)]:
                    self.cut(edge, issue.reason)
                    repaired = True
            elif issue.nodeId is not None and issue.nodeId in self.nodes and issue.nodeId != trigger:
                node = self.nodes[issue.nodeId]
                if node.type == "code" and node.config.get("code", "").startswith("throw new Error("):
                    self.drop(node.id, f"dropped: {issue.reason}")
                    node.entry.note("dropped", "unsupported")
                else:
                    original = json.dumps(node.config)[:2000]
                    node.entry.note(f"its converted settings did not validate ({issue.field}: {issue.reason}); "
                                    f"they were: {original}")
                    entry = node.entry
                    x, y, node_id = node.x, node.y, node.id
                    del self.nodes[node_id]
                    replacement = self.placeholder(entry, x, y, issue.reason)
                    self._rename(node_id, replacement.id)
                repaired = True
        return repaired

    def _rename(self, old: str, new: str) -> None:
        for edge in self.edges:
            if edge.source == old:
                edge.source = new
                node = self.nodes[new]
                if edge.handle is not None and edge.handle not in _handles(node):
                    edge.handle = None
            if edge.target == old:
                edge.target = new


def reachable(starts: Iterable[str], onward: Callable[[str], Iterable[str]]) -> set[str]:
    """Every node reached from `starts` (included) by following `onward`: the one graph walk the importers use."""
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo.extend(onward(node_id))
    return seen


def number(value: Any, default: float) -> float:
    """A number from an export's loosely typed field (a string, a number, or missing), else `default`."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _is_trigger(type_: str) -> bool:
    node_type = REGISTRY.get(type_)
    return node_type is not None and node_type.kind == "trigger"


def _handles(node: DraftNode) -> list[str]:
    node_type = REGISTRY.get(node.type)
    return node_type.output_handles(node.config) if node_type else []
