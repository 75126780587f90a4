"""`POST /v1/runs?wait=SECONDS`: the run's result in the answer, for clients that do not want a socket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, http_graph


async def post(stack: Stack, query: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs{query}", json=body) as response:
        return response.status, await response.json(), {k.lower(): v for k, v in response.headers.items()}


async def test_a_run_that_ends_within_the_wait_is_answered_with_its_result(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/ok", Reply(status=200, body={"id": "msg_1", "ok": True}))
    status, body, _ = await post(stack, "?wait=10", {"graph": http_graph(mock_http.url("/ok"))})
    assert status == 201, body
    assert body["status"] == "succeeded" and body["error"] is None and body["durationMs"] >= 0
    assert body["output"]["status"] == 200 and body["output"]["body"] == {"id": "msg_1", "ok": True}
    stored = await stack.get_run(body["runId"])
    assert stored["status"] == "succeeded" and stored["steps"][-1]["output"] == body["output"]


async def test_a_failed_run_is_answered_as_failed_with_why(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/down", Reply(status=404))
    status, body, _ = await post(stack, "?wait=10", {"graph": http_graph(mock_http.url("/down"))})
    assert status == 201, body
    assert body["status"] == "failed" and "404" in body["error"]
    assert body["output"] == {}  # the trigger succeeded (its output: the run's inputs); the call did not


async def test_a_run_still_going_after_the_wait_is_answered_202_with_its_id(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(delay_s=2.0))
    status, body, _ = await post(stack, "?wait=0.3", {"graph": http_graph(mock_http.url("/slow"))})
    assert status == 202 and set(body) == {"runId"}, body
    assert (await stack.finish(body["runId"]))["status"] == "succeeded"


async def test_a_replayed_request_waits_for_the_first_run(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(status=200, body={"n": 1}, delay_s=0.5))
    request = {"graph": http_graph(mock_http.url("/slow")), "idempotencyKey": "wait-once"}
    first_status, first, _ = await post(stack, "?wait=0.05", request)
    assert first_status == 202, first
    status, body, headers = await post(stack, "?wait=10", request)
    assert status == 201 and headers.get("idempotent-replayed") == "true", body
    assert body["runId"] == first["runId"] and body["status"] == "succeeded" and body["output"]["body"] == {"n": 1}
    assert len(mock_http.requests_to("/slow")) == 1


@pytest.mark.parametrize("wait", ["abc", "0", "-1", "301", "nan", "inf", ""])
async def test_a_wait_that_is_not_a_number_of_seconds_is_a_422_naming_it(stack: Stack, mock_http: MockHttp,
                                                                          wait: str) -> None:
    status, body, _ = await post(stack, f"?wait={wait}", {"graph": http_graph(mock_http.url("/ok"))})
    assert status == 422, body
    assert body["error"]["fields"][0]["field"] == "wait"
    assert mock_http.requests_to("/ok") == []
