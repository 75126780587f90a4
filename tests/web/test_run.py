"""Running from the builder: live badges, the run panel, cancel, failures and a dropped socket."""

from __future__ import annotations

import asyncio
import json
import re

from playwright.async_api import Page, WebSocketRoute, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import chain, expect_toast, load_graph, run_to_end


async def test_run_shows_live_status_durations_and_logs(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=1.0))
    await load_graph(page, chain(("fetch", mock_http.url("/slow")), ("notify", mock_http.url("/ok")), name="Live run"))

    await page.get_by_test_id("run-button").click()
    await expect_toast(page, "Run started: Live run")
    await expect(page.get_by_test_id("badge-fetch")).to_have_attribute("data-status", "running")
    await expect(page.get_by_test_id("badge-notify")).to_have_attribute("data-status", "queued")
    await expect(page.get_by_test_id("cancel-button")).to_be_visible()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    for node in ("fetch", "notify"):
        await expect(page.get_by_test_id(f"badge-{node}")).to_have_attribute("data-status", "succeeded")
        row = page.get_by_test_id(f"step-row-{node}")
        await expect(row).to_contain_text(f"Call {node}")
        await expect(row.get_by_test_id("step-duration")).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d s$"))
    await expect(page.get_by_test_id("step-row-fetch").get_by_test_id("step-duration")).to_have_text(re.compile(r"^1\.\d s$"))
    await expect(page.get_by_test_id("log-row").filter(has_text=re.compile(r"→ HTTP 20[04] in"))).to_have_count(2)
    await expect(page.get_by_test_id("log-row").first).to_contain_text(re.compile(r"\d\d:\d\d:\d\d\.\d{3}\s*INFO"))
    await expect_toast(page, re.compile(r"Live run succeeded"))
    await expect(page.get_by_test_id("cancel-button")).to_have_count(0)


async def test_double_click_starts_one_run(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("once", mock_http.url("/once"))))
    await page.get_by_test_id("run-button").dblclick()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    assert builder_stack.http is not None
    async with builder_stack.http.get(f"{builder_stack.base_url}/v1/runs?limit=10") as response:
        runs = (await response.json())["runs"]
    assert len(runs) == 1
    assert len(mock_http.requests_to("/once")) == 1


async def test_cancel_stops_a_running_run(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/hang", Reply(200, delay_s=30))
    await load_graph(page, chain(("hang", mock_http.url("/hang")), ("after", mock_http.url("/after")), name="Long run"))
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("badge-hang")).to_have_attribute("data-status", "running")
    await page.get_by_test_id("cancel-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled")
    await expect(page.get_by_test_id("badge-after")).to_have_attribute("data-status", re.compile("cancelled|skipped"))
    await expect_toast(page, "Long run was cancelled")
    assert mock_http.requests_to("/after") == []


async def test_failed_step_is_shown_with_its_error(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/broken", Reply(500, {"error": "boom"}))
    await load_graph(page, chain(("broken", mock_http.url("/broken")), ("next", mock_http.url("/next")), name="Failing"))
    await run_to_end(page, "failed")
    await expect(page.get_by_test_id("badge-broken")).to_have_attribute("data-status", "failed")
    await expect(page.get_by_test_id("step-row-broken")).to_contain_text("HTTP 500")
    await expect(page.get_by_test_id("log-row").filter(has_text="ERROR").first).to_be_visible()
    await expect_toast(page, re.compile("^Failing failed"))


async def test_dropped_socket_resumes_after_last_seq_without_losing_or_repeating(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    mock_http.reply("/a", Reply(200, delay_s=0.5))
    urls: list[str] = []
    closing: list[asyncio.Task[None]] = []

    async def flaky(ws: WebSocketRoute) -> None:
        urls.append(ws.url)
        server = ws.connect_to_server()
        forwarded = 0

        def relay(message: str | bytes) -> None:
            nonlocal forwarded
            if len(urls) == 1 and forwarded >= 2:
                return
            forwarded += 1
            ws.send(message)
            if len(urls) == 1 and forwarded == 2:
                # Drop the first connection mid-run, as a proxy or a flaky network would.
                closing.append(asyncio.create_task(ws.close(code=1011, reason="dropped by the test")))

        server.on_message(relay)

    await page.route_web_socket(re.compile(r"/v1/runs/[^/]+/events"), flaky)
    await load_graph(page, chain(("a", mock_http.url("/a")), ("b", mock_http.url("/b")), name="Flaky"))
    await run_to_end(page, "succeeded")

    assert len(urls) >= 2 and "after=2" in urls[1], urls
    run_id = urls[0].split("/v1/runs/")[1].split("/")[0]
    record = await builder_stack.get_run(run_id)
    await expect(page.get_by_test_id("log-row")).to_have_count(len(record["logs"]))
    shown = await page.get_by_test_id("log-row").all_inner_texts()
    assert len(set(shown)) == len(shown), json.dumps(shown)
    for step in record["steps"]:
        await expect(page.get_by_test_id(f"step-row-{step['nodeId']}")).to_have_count(1)


async def test_a_waiting_run_says_why(page: Page, mock_http: MockHttp) -> None:
    """The run panel shows the server's sentence on what a held-up run waits for, and drops it once it goes on."""
    document = chain(("after", mock_http.url("/after")), name="Napping")
    document["nodes"].insert(1, {"id": "nap", "type": "delay", "position": {"x": 280, "y": 0},
                                 "data": {"label": "Nap", "config": {"seconds": 600}}})
    document["edges"] = [{"id": "e1", "source": "start", "target": "nap"}, {"id": "e2", "source": "nap", "target": "after"}]
    await load_graph(page, document)
    await page.get_by_test_id("run-button").click()
    waiting = page.get_by_test_id("run-waiting")
    await expect(waiting).to_contain_text(re.compile(r"step nap is a delay, waiting until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    await page.get_by_test_id("cancel-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled")
    await expect(waiting).to_have_count(0)
