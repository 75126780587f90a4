"""merge: runs in a worker like a Set, with two rules of its own: when it may start (its mode), and what its
worker gets (the outputs of the parents that reached it, in edge order, and no other step's), from which the
worker builds its output (engine/nodes/merge.py)."""

from __future__ import annotations

from typing import Any

from schemas import RunRecord

from ..change import UNFINISHED, Readiness, reaches
from .base import StepHandler


class Merge(StepHandler):
    def begin(self, change: Any, step_id: str, prepared: Any) -> None:
        raise AssertionError("a merge completes in a worker")

    def readiness(self, record: RunRecord, step_id: str) -> tuple[Readiness, str | None] | None:
        if record.dag.step(step_id).config.get("mode") != "first":
            return None  # wait_all and append: the common rule (every parent finished, at least one reached it)
        parents = record.dag.step(step_id).deps
        if any(reaches(record, step_id, parent) for parent in parents):
            return "run", None
        if any(record.step(parent).status in UNFINISHED for parent in parents):
            return "wait", None
        return "skip", "no branch before it reached it"

    def dispatch(self, record: RunRecord, step_id: str,
                 call: str | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
        dag_step = record.dag.step(step_id)
        reached = [parent for parent in dag_step.deps if reaches(record, step_id, parent)]
        if dag_step.config.get("mode") == "first":
            reached = reached[:1]
        # In edge order: JSON objects keep theirs, so the worker's `append` lists them as drawn.
        outputs = {parent: left for parent in reached if (left := record.left_by(parent)) is not None}
        return dag_step.config, outputs


MERGE = Merge()
