"""Saved versions and their compiled DAGs, read and compiled once per gateway.

A saved version never changes (bus/workflows_kv.py), so what a webhook or `POST /v1/runs {workflowId, version}`
runs can be kept: a run of a saved workflow then costs the read of its head (is it active, which version) and not
the version's read, parse and compile each time. Kept per (workflow, version, node limit), least recently used
dropped first, so memory stays bounded whatever the number of workflows.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bus import Bus
from schemas import Dag, compile_workflow_off_loop
from schemas.workflows import HookRef, WorkflowVersion

_VERSIONS_KEPT = 128
_HOOKS_KEPT = 4096


@dataclass(frozen=True)
class CompiledVersion:
    saved: WorkflowVersion
    dag: Dag


class SavedVersions:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._compiled: OrderedDict[tuple[str, int, int], CompiledVersion] = OrderedDict()
        self._hooks: OrderedDict[str, HookRef] = OrderedDict()

    async def compiled(self, workflow_id: str, version: int) -> CompiledVersion | None:
        """The saved version and its DAG; None when there is no such version. WorkflowInvalid when it does not
        compile (under a lower node limit than it was saved with, say): never kept, so each run says why."""
        key = (workflow_id, version, self._bus.settings.max_graph_nodes)
        found = self._compiled.get(key)
        if found is not None:
            self._compiled.move_to_end(key)
            return found
        saved = await self._bus.workflows.version(workflow_id, version)
        if saved is None:
            return None
        found = CompiledVersion(saved, await compile_workflow_off_loop(saved.graph, key[2]))
        self._compiled[key] = found
        if len(self._compiled) > _VERSIONS_KEPT:
            self._compiled.popitem(last=False)
        return found

    async def hook(self, hook_id: str, fresh: bool = False) -> HookRef | None:
        """Which workflow and node a hook id belongs to. A hook id is never given to another node, so a kept answer
        stays true until its workflow is deleted, which the caller learns from the head (then asks `fresh`)."""
        if not fresh and (found := self._hooks.get(hook_id)) is not None:
            self._hooks.move_to_end(hook_id)
            return found
        self._hooks.pop(hook_id, None)
        ref = await self._bus.workflows.hook(hook_id)
        if ref is not None:
            self._hooks[hook_id] = ref
            if len(self._hooks) > _HOOKS_KEPT:
                self._hooks.popitem(last=False)
        return ref
