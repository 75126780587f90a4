"""Wait steps answered over their resume URLs, on a real stack: approvals by JSON and by the page's form, callbacks
from other origins, refusals (unknown, tampered, answered, timed out, cancelled), the page itself, and URLs that are
absolute and never carry the run's seed."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from schemas.masking import MASK
from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack, step_is

MESSAGE = "Refund <script>alert('x')</script> & more?\nSecond line"


def approval_graph(mock_http: MockHttp, **wait: Any) -> dict[str, Any]:
    """Start → wait → one HTTP call per way out: approved, rejected, timeout."""
    return graph(
        node("ask", "wait", "Ask finance", **{"resume": "approval", "timeoutSeconds": 3600, "message": MESSAGE, **wait}),
        http("on_approved", mock_http.url("/approved"), json_body={"comment": "{{ steps.ask.output.comment }}"}),
        http("on_rejected", mock_http.url("/rejected")),
        http("on_timeout", mock_http.url("/timeout")),
        edges=[edge("start", "ask"), edge("ask", "on_approved", "approved"), edge("ask", "on_rejected", "rejected"),
               edge("ask", "on_timeout", "timeout")],
    )


def callback_graph(mock_http: MockHttp) -> dict[str, Any]:
    return graph(
        node("callback", "wait", "Wait for the carrier", resume="webhook", timeoutSeconds=3600),
        http("on_received", mock_http.url("/received"), json_body={"tracking": "{{ steps.callback.output.body.id }}"}),
        http("on_timeout", mock_http.url("/timeout")),
        edges=[edge("start", "callback"), edge("callback", "on_received", "received"),
               edge("callback", "on_timeout", "timeout")],
    )


@pytest.fixture
async def anonymous() -> AsyncIterator[aiohttp.ClientSession]:
    """A client with no token and no cookie: the resume URL alone must do."""
    async with aiohttp.ClientSession() as session:
        yield session


async def waiting_url(stack: Stack, run_id: str, step_id: str) -> str:
    """The step's resume URL, from the event that says it waits (as the builder sees it)."""
    events = await stack.events(run_id, until=step_is(step_id, "waiting"))
    url = events[-1]["step"]["resumeUrl"]
    assert isinstance(url, str)
    return url


async def started_waiting(stack: Stack, mock_http: MockHttp, document: dict[str, Any], step_id: str) -> tuple[str, str]:
    mock_http.reply("/approved", Reply(status=200, body={"ok": True}))
    run_id = await stack.start_run(document)
    return run_id, await waiting_url(stack, run_id, step_id)


async def answer(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    async with session.post(url, **kwargs) as response:
        text = await response.text()
        body = json.loads(text) if response.content_type == "application/json" else text
        return response.status, body, dict(response.headers)


async def test_approved_by_json_takes_the_approved_branch_and_a_second_answer_is_409(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    assert url.startswith(f"{stack.base_url}/v1/resume/{run_id}.ask.1.")  # absolute, under the address used
    view = await stack.get_run(run_id)
    assert steps_by_id(view)["ask"]["resumeUrl"] == url and steps_by_id(view)["ask"]["wait"]["mode"] == "approval"

    status, body, headers = await answer(anonymous, url, json={"approved": True, "comment": "fine by me"})
    assert status == 200, body
    assert body == {"runId": run_id, "stepId": "ask"} and headers["Access-Control-Allow-Origin"] == "*"
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded"
    assert steps["ask"]["output"] == {"approved": True, "comment": "fine by me"} and steps["ask"]["handles"] == ["approved"]
    assert steps["ask"]["resumeUrl"] is None
    assert [s["status"] for s in (steps["on_approved"], steps["on_rejected"], steps["on_timeout"])] == \
        ["succeeded", "skipped", "skipped"]
    assert mock_http.requests_to("/approved")[0].json() == {"comment": "fine by me"}

    status, body, _ = await answer(anonymous, url, json={"approved": False})
    assert status == 409 and body["error"]["code"] == "already_resumed", body


async def test_a_second_answer_at_once_is_a_duplicate_of_the_first(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    first = await answer(anonymous, url, json={"approved": True})
    second = await answer(anonymous, url, json={"approved": False})
    assert first[0] == 200 and second[0] == 409 and second[1]["error"]["code"] == "already_resumed", (first, second)
    record = await stack.finish(run_id)
    assert steps_by_id(record)["ask"]["handles"] == ["approved"]


async def test_rejected_by_the_pages_form_post_answers_with_a_page(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    # As a browser submits the page's form: same origin, a form body, asking for HTML.
    status, page, headers = await answer(anonymous, url, data={"approved": "false", "comment": "not this month"},
                                         headers={"Origin": stack.base_url, "Accept": "text/html,*/*;q=0.8"})
    assert status == 200 and headers["Content-Type"].startswith("text/html"), page
    assert "Thank you — rejected" in page
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert steps["ask"]["output"] == {"approved": False, "comment": "not this month"}
    assert [s["status"] for s in (steps["on_approved"], steps["on_rejected"])] == ["skipped", "succeeded"]

    # The page, asked again, says what became of it; a late form post gets a page saying so too.
    async with anonymous.get(url, headers={"Accept": "text/html"}) as response:
        assert response.status == 200
        text = await response.text()
    assert "Rejected. Comment: not this month" in text and "<button" not in text
    status, page, _ = await answer(anonymous, url, data={"approved": "true"}, headers={"Accept": "text/html"})
    assert status == 409 and "answered already" in page


async def test_unknown_malformed_and_tampered_tokens_are_404(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    other_step = url.replace(".ask.1.", ".on_approved.1.")
    other_attempt = url.replace(".ask.1.", ".ask.2.")
    unknown_run = re.sub(r"/v1/resume/[^.]+", "/v1/resume/0000000000000000", url)
    for wrong in (tampered, other_step, other_attempt, unknown_run, f"{stack.base_url}/v1/resume/nope",
                  f"{stack.base_url}/v1/resume/{'a' * 300}"):
        status, body, _ = await answer(anonymous, wrong, json={"approved": True})
        assert status == 404 and body["error"]["code"] == "not_found", (wrong, body)
        async with anonymous.get(wrong) as response:
            assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
        async with anonymous.get(wrong, headers={"Accept": "text/html"}) as response:
            assert response.status == 404 and "Not found" in await response.text()
    assert (await stack.get_run(run_id))["status"] == "running"  # nothing reached the step


async def test_bad_answers_name_the_field_and_change_nothing(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"json": {"approved": "yes"}}, 422, "approved"),
        ({"json": {"comment": "no verdict"}}, 422, "approved"),
        ({"json": {"approved": True, "comment": "x" * 4001}}, 422, "comment"),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "body"),
        ({"data": {"approved": "maybe"}}, 422, "approved"),
        ({"data": b"approved=true&comment=a&comment=b",
          "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 422, "comment"),
        ({"data": b"approve", "headers": {"Content-Type": "text/plain"}}, 415, "Content-Type"),
    ]
    for kwargs, code, field in bad:
        status, body, _ = await answer(anonymous, url, **kwargs)
        assert status == code and body["error"]["fields"][0]["field"] == field, (kwargs, body)
    # What `curl -d '{…}'` sends: JSON labelled as a form. The refusal says so.
    status, body, _ = await answer(anonymous, url, data=b'{"approved": true}',
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 422 and "Content-Type: application/json" in body["error"]["fields"][0]["reason"], body
    assert steps_by_id(await stack.get_run(run_id))["ask"]["status"] == "waiting"


async def test_a_wait_that_timed_out_answers_409_timed_out_and_went_on_from_timeout(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http, timeoutSeconds=1), "ask")
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert steps["ask"]["handles"] == ["timeout"] and steps["ask"]["output"]["timedOut"] is True
    assert [s["status"] for s in (steps["on_approved"], steps["on_rejected"], steps["on_timeout"])] == \
        ["skipped", "skipped", "succeeded"]
    status, body, _ = await answer(anonymous, url, json={"approved": True})
    assert status == 409 and body["error"]["code"] == "timed_out", body
    async with anonymous.get(url, headers={"Accept": "text/html"}) as response:
        assert response.status == 200 and "No answer came in time" in await response.text()


async def test_a_cancelled_runs_wait_is_409_not_waiting(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    assert stack.http is not None
    async with stack.http.post(f"{stack.base_url}/v1/runs/{run_id}/cancel") as response:
        assert response.status == 202
    await stack.finish(run_id)
    status, body, _ = await answer(anonymous, url, json={"approved": True})
    assert status == 409 and body["error"]["code"] == "not_waiting", body


async def test_the_approval_page_escapes_the_message_and_offers_two_buttons(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    async with anonymous.get(url) as response:  # the page, whatever the client accepts
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
        policies = response.headers.getall("Content-Security-Policy")
        assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more?" in page
    assert "Ask finance" in page and "Test workflow" in page and "Waits for an answer until" in page
    assert page.count("<button") == 2 and 'name="approved" value="true"' in page and 'value="false"' in page
    assert '<form method="post">' in page and 'name="comment"' in page
    # The gateway's policy and the page's own, which lets nothing load but its one nonced stylesheet.
    [own] = [p for p in policies if "nonce-" in p]
    nonce = re.search(r"'nonce-([^']+)'", own)
    assert nonce and f'<style nonce="{nonce.group(1)}">' in page and "default-src 'none'" in own
    assert any("frame-ancestors 'none'" in p for p in policies)
    assert (await stack.get_run(run_id))["status"] == "running"  # looking changes nothing


async def test_a_callback_from_another_origin_resumes_with_body_masked_headers_and_query(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    mock_http.reply("/received", Reply(status=200, body={"ok": True}))
    run_id, url = await started_waiting(stack, mock_http, callback_graph(mock_http), "callback")
    async with anonymous.get(url) as response:
        assert response.status == 405 and response.headers["Allow"] == "POST"
        assert (await response.json())["error"]["code"] == "method_not_allowed"
    # A browser elsewhere asks first (JSON is not a simple request), and is allowed, without credentials.
    async with anonymous.options(url, headers={"Origin": "https://carrier.example",
                                               "Access-Control-Request-Method": "POST"}) as response:
        assert response.status == 204 and response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
    cross = {"Origin": "https://carrier.example", "Sec-Fetch-Site": "cross-site"}
    status, body, _ = await answer(anonymous, url, data=b'{"id": ', headers={**cross, "Content-Type": "application/json"})
    assert status == 400 and body["error"]["fields"][0]["field"] == "body", body
    status, body, headers = await answer(anonymous, f"{url}?shipment=42&leg=2", json={"id": "TRK-1", "ok": True},
                                         headers={**cross, "Authorization": "Bearer carrier-secret-token",
                                                  "X-Carrier": "acme"})
    assert status == 200 and body == {"runId": run_id, "stepId": "callback"}, body
    assert headers["Access-Control-Allow-Origin"] == "*"
    record = await stack.finish(run_id)
    output = steps_by_id(record)["callback"]["output"]
    assert output["body"] == {"id": "TRK-1", "ok": True} and output["query"] == {"shipment": "42", "leg": "2"}
    assert output["headers"]["authorization"] == MASK and output["headers"]["x-carrier"] == "acme"
    assert "carrier-secret-token" not in json.dumps(record)
    assert mock_http.requests_to("/received")[0].json() == {"tracking": "TRK-1"}


async def test_resume_urls_are_under_the_public_url_when_it_is_set(stack: Stack, mock_http: MockHttp) -> None:
    await stack.stop_gateway()
    await stack.start_gateway(public_url="https://automate.example.com")
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    assert url.startswith(f"https://automate.example.com/v1/resume/{run_id}.ask.1.")
    assert steps_by_id(await stack.get_run(run_id))["ask"]["resumeUrl"] == url


async def test_the_runs_seed_appears_in_no_view_list_or_event(
        stack: Stack, mock_http: MockHttp, anonymous: aiohttp.ClientSession) -> None:
    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    found = await stack.gateway_bus().runs.get(run_id)
    assert found is not None and len(found[0].seed) == 32
    seed = found[0].seed
    assert stack.http is not None
    seen = [json.dumps(await stack.get_run(run_id))]
    async with stack.http.get(f"{stack.base_url}/v1/runs") as response:
        seen.append(await response.text())
    async with anonymous.get(url) as response:
        seen.append(await response.text())
    status, _, _ = await answer(anonymous, url, json={"approved": True})
    assert status == 200
    seen.append(json.dumps(await stack.events(run_id)))
    seen.append(json.dumps(await stack.get_run(run_id)))
    assert all(seed not in text for text in seen)
    assert run_id in seen[1] and "resumeUrl" in seen[-2]  # the canary looked where the run is
