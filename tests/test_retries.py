"""Per-node retries end to end: backoff that holds no worker, what is and is not retried, Retry-After,
and the Idempotency-Key that stays the same across attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.graphs import edge, graph, http, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack

FAST_RETRY: dict[str, object] = {"maxAttempts": 3, "initialIntervalMs": 200, "backoffCoefficient": 2.0, "maxIntervalMs": 5000}


def one_call(mock_http: MockHttp, path: str, retry: dict[str, object]) -> dict[str, object]:
    return graph(http("call", mock_http.url(path), settings={"retry": retry}), edges=[edge("start", "call")])


def attempt_gaps(record: dict[str, Any]) -> list[float]:
    """Seconds between the starts of successive attempts, as the run recorded them."""
    starts = [datetime.fromisoformat(a["startedAt"]) for a in steps_by_id(record)["call"]["attempts"]]
    return [(b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False)]


async def test_two_failures_then_success_on_attempt_3_with_growing_waits(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/shaky", Reply(status=503, body="busy"), Reply(status=502, body="bad gateway"),
                    Reply(status=200, body={"ok": True}))
    record = await stack.finish(await stack.start_run(one_call(mock_http, "/shaky", FAST_RETRY)))
    call = steps_by_id(record)["call"]
    assert record["status"] == "succeeded" and call["attempt"] == 3
    assert [a["status"] for a in call["attempts"]] == ["failed", "failed", "succeeded"]
    waits = [a["retryInMs"] for a in call["attempts"][:2]]
    assert 160 <= waits[0] <= 200 and 320 <= waits[1] <= 400 and waits[1] > waits[0]
    assert call["attempts"][0]["output"]["body"] == "busy", "each attempt keeps what the server answered"
    gaps = attempt_gaps(record)
    assert gaps[0] >= 0.16 and gaps[1] >= 0.32
    logs = [entry["msg"] for entry in record["logs"]]
    assert any("attempt 1 of 3 failed: HTTP 503" in msg and "retrying in" in msg for msg in logs)
    assert any("succeeded on attempt 3" in msg for msg in logs)
    keys = {r.headers.get("Idempotency-Key") for r in mock_http.requests_to("/shaky")}
    assert keys == {f"{record['id']}-call"}, "one key for every attempt"


async def test_404_is_not_retried(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/gone", Reply(status=404, body="no such order"))
    record = await stack.finish(await stack.start_run(one_call(mock_http, "/gone", FAST_RETRY)))
    assert record["status"] == "failed" and steps_by_id(record)["call"]["attempt"] == 1
    assert len(mock_http.requests_to("/gone")) == 1


async def test_retry_after_is_honoured(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/limited", Reply(status=429, body="slow down", headers={"Retry-After": "1"}), Reply(status=200))
    record = await stack.finish(await stack.start_run(one_call(mock_http, "/limited", FAST_RETRY)))
    call = steps_by_id(record)["call"]
    assert record["status"] == "succeeded" and call["attempt"] == 2
    assert call["attempts"][0]["retryInMs"] == 1000
    assert attempt_gaps(record)[0] >= 1.0


async def test_failed_attempts_show_request_and_response(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/boom", Reply(status=500, body={"error": "database on fire"}))
    document = graph(http("call", mock_http.url("/boom"), json_body={"order": 1},
                          headers={"Authorization": "Bearer sk_live_canary_1234"}), edges=[edge("start", "call")])
    record = await stack.finish(await stack.start_run(document))
    call = steps_by_id(record)["call"]
    assert call["output"]["status"] == 500 and call["output"]["body"] == {"error": "database on fire"}
    request = call["request"]
    assert request["method"] == "POST" and request["body"] == {"order": 1}
    assert request["headers"]["Authorization"] == "••••••"
    assert "sk_live_canary_1234" not in str(record)
