"""Saved workflows in the `workflows` KV bucket: an immutable key per version, and a head changed by
compare-and-set, so two editors saving on the same version cannot both win; beside each head, a small summary
(no graph) that listing reads, a page at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from schemas.workflows import (
    HookRef,
    ScheduleEntry,
    StoredWorkflowSummary,
    WorkflowActivation,
    WorkflowHead,
    WorkflowVersion,
)

from . import subjects
from .errors import RecordDamaged
from .kv_keys import kv_keys
from .stream_pages import newest_first, sequence_of

log = logging.getLogger(__name__)


class VersionConflict(Exception):
    """The head moved on (another save won): re-read, and show the user the newer version."""

    def __init__(self, latest: int) -> None:
        super().__init__(f"the latest version is {latest}")
        self.latest = latest


def _head(workflow_id: str) -> str:
    return f"head.{workflow_id}"


def _version(workflow_id: str, version: int) -> str:
    return f"version.{workflow_id}.{version}"


def _summary(workflow_id: str) -> str:
    return f"summary.{workflow_id}"


def _hook(hook_id: str) -> str:
    return f"hook.{hook_id}"


def _schedule(workflow_id: str, node_id: str) -> str:
    return f"schedule.{workflow_id}.{node_id}"


class WorkflowStore:
    def __init__(self, kv: KeyValue, nc: NATS) -> None:
        self.kv = kv
        self._nc = nc

    async def create(self, head: WorkflowHead) -> bool:
        """False when the id is taken."""
        try:
            await self.kv.create(_head(head.id), head.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            return False
        await self._keep_summary(head)
        await self._keep_version(head)
        await self._keep_hooks(head)
        return True

    async def get(self, workflow_id: str) -> tuple[WorkflowHead, int] | None:
        try:
            entry = await self.kv.get(_head(workflow_id))
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        try:
            return WorkflowHead.model_validate_json(entry.value), entry.revision or 0
        except ValueError:
            raise RecordDamaged(f"workflow {workflow_id!r} cannot be read: its stored head is damaged; its saved "
                                "versions are kept (GET /v1/workflows/{id}/versions/{n}); delete it to start over") from None

    async def activation(self, workflow_id: str) -> WorkflowActivation | None:
        """The head's activation alone: one read, without building its graph. None when there is no readable head."""
        try:
            entry = await self.kv.get(_head(workflow_id))
        except KeyNotFoundError:
            return None
        try:
            return WorkflowActivation.model_validate_json(entry.value) if entry.value else None
        except ValueError:
            return None  # a damaged head runs nothing; GET /v1/workflows/{id} says what is wrong

    async def _readable_head(self, workflow_id: str) -> tuple[WorkflowHead, int] | None:
        try:
            return await self.get(workflow_id)
        except RecordDamaged:
            return None

    async def change(self, workflow_id: str, revision: int, head: WorkflowHead, new_version: bool = False) -> None:
        """Write `head` over the one read at `revision`; VersionConflict when another write came first."""
        try:
            await self.kv.update(_head(workflow_id), head.model_dump_json().encode(), last=revision)
        except KeyWrongLastSequenceError:
            found = await self.get(workflow_id)
            raise VersionConflict(found[0].version if found else 0) from None
        await self._keep_summary(head)
        if new_version:
            await self._keep_version(head)
        await self._keep_hooks(head)

    async def save(self, workflow_id: str, base_version: int, changed: Callable[[WorkflowHead], WorkflowHead]) -> WorkflowHead:
        """A new version on top of `base_version`, or VersionConflict (KeyError when there is no such workflow)."""
        found = await self.get(workflow_id)
        if found is None:
            raise KeyError(workflow_id)
        head, revision = found
        if head.version != base_version:
            raise VersionConflict(head.version)
        # The head holds its own version until the next save moves it on; a gateway killed between writing a head
        # and its version key left that version only there. Kept now, before the head moves, it is never lost.
        await self._keep_version(head, only_if_missing=True)
        new = changed(head)
        await self.change(workflow_id, revision, new, new_version=True)
        return new

    async def version(self, workflow_id: str, version: int) -> WorkflowVersion | None:
        try:
            entry = await self.kv.get(_version(workflow_id, version))
        except KeyNotFoundError:
            entry = None
        if entry is not None and entry.value is not None:
            return WorkflowVersion.model_validate_json(entry.value)
        # Written right after the head: a crash between the two leaves the latest only in the head.
        found = await self.get(workflow_id)
        if found is not None and found[0].version == version:
            return _as_version(found[0])
        return None

    async def versions(self, workflow_id: str) -> list[int]:
        keys = await kv_keys(self.kv, f"version.{workflow_id}.")
        found = await self._readable_head(workflow_id)
        latest = {found[0].version} if found is not None else set()  # its key may not be written yet
        return sorted({int(key.rsplit(".", 1)[1]) for key in keys} | latest)

    async def summaries(self, before: int | None, limit: int) -> tuple[list[StoredWorkflowSummary], int | None]:
        """Up to `limit` summaries, most recently changed first, from below the position `before`; and the position
        to pass as `before` for the next page (None on the last). Reads summaries only: no graph is parsed."""
        if before is None:
            await self._repair_summaries()
        wanted = f"$KV.{self.kv._name}.{_summary('*')}"  # noqa: SLF001 - nats-py keeps the bucket name private
        # Heads and versions lie between the summaries in the bucket's stream: look back further than a page.
        found, more = await newest_first(self._nc, f"KV_{subjects.WORKFLOWS_BUCKET}", wanted, before, limit,
                                         window=max(256, limit * 8))
        page = []
        for msg in found:
            if not msg.data:
                continue  # a deleted workflow's marker
            try:
                page.append(StoredWorkflowSummary.model_validate_json(msg.data))
            except ValidationError as error:
                log.warning("skipping a workflow summary that does not parse (%s): %s", msg.subject,
                            error.errors()[0]["msg"])
        return page, (sequence_of(found[-1]) if more and found else None)

    async def summary(self, workflow_id: str) -> StoredWorkflowSummary | None:
        try:
            entry = await self.kv.get(_summary(workflow_id))
        except KeyNotFoundError:
            return None
        return StoredWorkflowSummary.model_validate_json(entry.value) if entry.value else None

    async def repair_summary(self, head: WorkflowHead) -> None:
        """Rewrite the head's summary if it is missing or behind: a gateway killed between writing a head and its
        summary left it so, and reading the head (GET /v1/workflows/{id}) puts it right."""
        try:
            current = await self.summary(head.id)
        except ValidationError:
            current = None
        if current != head.stored_summary():
            await self._keep_summary(head)

    async def _repair_summaries(self) -> None:
        # A head without a summary (its create cut between the two writes) would never be listed. Found by key
        # names alone, which the server lists without reading any value; in the usual case there is none.
        summarised = {key.removeprefix("summary.") for key in await kv_keys(self.kv, "summary.")}
        for key in await kv_keys(self.kv, "head."):
            workflow_id = key.removeprefix("head.")
            if workflow_id not in summarised:
                found = await self.get(workflow_id)
                if found is not None:
                    log.info("workflow %s had no summary (a save cut short); writing it", workflow_id)
                    await self._keep_summary(found[0])

    async def heads(self) -> list[WorkflowHead]:
        heads = []
        for key in await kv_keys(self.kv, "head."):
            try:
                found = await self.get(key.removeprefix("head."))
            except RecordDamaged as damaged:
                log.warning("skipped: %s", damaged)
                continue
            if found is not None:
                heads.append(found[0])
        return heads

    async def hook(self, hook_id: str) -> HookRef | None:
        try:
            entry = await self.kv.get(_hook(hook_id))
        except KeyNotFoundError:
            return None
        return HookRef.model_validate_json(entry.value) if entry.value else None

    # -- schedules: what the orchestrators fire -----------------------------------------------------------------

    async def set_schedules(self, workflow_id: str, entries: list[ScheduleEntry]) -> None:
        """The workflow's schedules become `entries` (none: it fires nothing). Written before the head on
        activation and after it on deactivation; the scheduler checks the head before firing, so a crash between
        the two never fires an inactive workflow."""
        keep = {_schedule(e.workflowId, e.nodeId) for e in entries}
        for key in await kv_keys(self.kv, f"schedule.{workflow_id}."):
            if key not in keep:
                await self.kv.purge(key)
        for entry in entries:
            await self.kv.put(_schedule(entry.workflowId, entry.nodeId), entry.model_dump_json().encode())

    async def schedules(self) -> list[tuple[ScheduleEntry, int]]:
        found = []
        for key in await kv_keys(self.kv, "schedule."):
            try:
                entry = await self.kv.get(key)
            except KeyNotFoundError:
                continue
            if entry.value:
                found.append((ScheduleEntry.model_validate_json(entry.value), entry.revision or 0))
        return found

    async def advance_schedule(self, entry: ScheduleEntry, revision: int) -> int | None:
        """Store `entry` (its lastTick moved on) over `revision`; None when another orchestrator moved it first."""
        try:
            return int(await self.kv.update(_schedule(entry.workflowId, entry.nodeId), entry.model_dump_json().encode(),
                                            last=revision))
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            return None

    async def delete(self, workflow_id: str) -> None:
        await self.set_schedules(workflow_id, [])
        found = await self._readable_head(workflow_id)  # a damaged head is deleted too (its hooks then answer 404)
        for hook_id in found[0].hooks.values() if found else ():
            await self.kv.purge(_hook(hook_id))
        for version in await self.versions(workflow_id):
            await self.kv.purge(_version(workflow_id, version))
        await self.kv.purge(_head(workflow_id))
        # The summary last: a delete cut short leaves the workflow listed, and deleting it again finishes the job
        # (forget_summary). A purged summary's key name stays, so one purged first would hide a surviving head
        # from the repair in `summaries`.
        await self.kv.purge(_summary(workflow_id))

    async def forget_summary(self, workflow_id: str) -> bool:
        """Purge the summary of a workflow whose head is gone (a delete cut short); False when there was none."""
        try:
            if await self.summary(workflow_id) is None:
                return False
        except ValidationError:
            pass
        await self.kv.purge(_summary(workflow_id))
        return True

    async def _keep_summary(self, head: WorkflowHead) -> None:
        # Right after the head: a crash between the two leaves the summary missing or behind, which the next write
        # of the head, a read of it, or (when missing) the next list repairs.
        await self.kv.put(_summary(head.id), head.stored_summary().model_dump_json().encode())

    async def _keep_hooks(self, head: WorkflowHead) -> None:
        # The index a webhook request is routed by; written after the head, so a hook never points nowhere
        # for long, and a request to it checks the head anyway.
        for node_id, hook_id in head.hooks.items():
            await self.kv.put(_hook(hook_id), HookRef(workflowId=head.id, nodeId=node_id).model_dump_json().encode())

    async def _keep_version(self, head: WorkflowHead, only_if_missing: bool = False) -> None:
        # put, not create: after a crash between head and version, the retry writes the same content.
        value = _as_version(head).model_dump_json().encode()
        if not only_if_missing:
            await self.kv.put(_version(head.id, head.version), value)
            return
        try:
            await self.kv.create(_version(head.id, head.version), value)
        except KeyWrongLastSequenceError:
            pass  # written already, as it almost always is


def _as_version(head: WorkflowHead) -> WorkflowVersion:
    return WorkflowVersion(workflowId=head.id, version=head.version, name=head.name, description=head.description,
                           graph=head.graph, errorWorkflowId=head.errorWorkflowId, inputSchema=head.inputSchema,
                           exposeAsTool=head.exposeAsTool, createdAt=head.updatedAt)
