"""A run's summary, as History lists it."""

from __future__ import annotations

from datetime import timedelta

from schemas import Graph, RunRecord, compile_workflow
from tests.support.graphs import edge, graph, http


def test_a_finished_runs_duration_counts_from_its_start_not_from_when_it_was_queued() -> None:
    dag = compile_workflow(Graph.model_validate(graph(http("ping", "https://x.example/"), edges=[edge("start", "ping")])))
    record = RunRecord.new("r1", dag, {})
    queued_at = record.createdAt
    started_at = queued_at + timedelta(seconds=5)  # five seconds in the queue: no orchestrator was running
    steps = [step.model_copy(update={"status": "succeeded", "startedAt": started_at + timedelta(milliseconds=10 * i)})
             for i, step in enumerate(record.steps)]
    ended = record.model_copy(update={"status": "succeeded", "steps": steps,
                                      "updatedAt": started_at + timedelta(milliseconds=1300)})
    assert ended.summary().durationMs == 1300.0
    assert record.summary().durationMs is None, "an unfinished run has no duration yet"
