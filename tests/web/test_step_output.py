"""After a run: what each step sent and got back, values passed from step to step, and branches taken."""

from __future__ import annotations

import os
import re
from typing import Any

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.web.builder import chain, load_graph, run_to_end


def node(node_id: str, node_type: str, label: str, config: dict[str, Any], x: int, y: int = 100) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "position": {"x": x, "y": y}, "data": {"label": label, "config": config}}


def order_router(mock_http: MockHttp) -> dict[str, Any]:
    """Start → fetch an order → if it is over 500: alert sales (true), else: mark it small (false)."""
    return {
        "meta": {"name": "Route orders", "version": 1},
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 100}, "data": {"label": "Start"}},
            node("http_1", "http", "Fetch order", {"method": "GET", "url": mock_http.url("/order"), "timeoutMs": 10000}, 260),
            node("if_1", "if", "Big order?", {"condition": "{{ steps.http_1.output.body.amount > 500 }}"}, 520),
            node("http_2", "http", "Alert sales", {"method": "POST", "url": mock_http.url("/big"),
                                                   "json_body": {"id": "{{ steps.http_1.output.body.id }}"}}, 800, 0),
            node("set_1", "set", "Mark small", {"values": {"size": "small"}}, 800, 220),
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "http_1"},
            {"id": "e2", "source": "http_1", "target": "if_1"},
            {"id": "e-true", "source": "if_1", "sourceHandle": "true", "target": "http_2"},
            {"id": "e-false", "source": "if_1", "sourceHandle": "false", "target": "set_1"},
        ],
    }


async def test_insert_variable_passes_an_upstream_value_to_the_next_call(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/user", Reply(200, {"id": 42, "name": "Ada"}))
    # A hyphenated id is named steps['get-user'] in templates: the form the menu offers.
    await load_graph(page, chain(("get-user", mock_http.url("/user")), ("notify", mock_http.url("/hook/")), name="Pass it on"))
    await page.get_by_test_id("node-notify").click()
    url = page.get_by_test_id("field-url").locator("input")
    await url.click()
    await url.press("End")
    await page.get_by_test_id("insert-url").click()
    option = page.get_by_test_id("variable-option").filter(has_text="{{steps['get-user'].output.}}")
    await expect(option).to_contain_text("Call get-user: a field of its output")
    await option.click()
    await expect(url).to_be_focused()
    await page.keyboard.type("body.id")
    await expect(url).to_have_value(mock_http.url("/hook/") + "{{steps['get-user'].output.body.id}}")

    await run_to_end(page, "succeeded")
    assert [r.path for r in mock_http.requests_to("/hook/42")] == ["/hook/42"]

    # After a run, the menu offers the fields the output really had.
    await page.get_by_test_id("tab-config").click()
    await page.get_by_test_id("insert-url").click()
    await expect(
        page.get_by_test_id("variable-option").filter(has_text="{{steps['get-user'].output.body.name}}")
    ).to_contain_text('"Ada" in the last run')


async def test_a_failed_call_shows_the_response_it_got(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/broken", Reply(500, {"error": "boom", "detail": "database unavailable"}))
    await load_graph(page, chain(("broken", mock_http.url("/broken")), name="Broken"))
    await run_to_end(page, "failed")
    await page.get_by_test_id("node-broken").click()
    details = page.get_by_test_id("step-details")
    await expect(details.get_by_test_id("step-details-status")).to_have_attribute("data-status", "failed")
    await expect(details.get_by_test_id("request-line")).to_have_text(f"GET {mock_http.url('/broken')}")
    await expect(details.get_by_test_id("response-status")).to_have_text("500")
    body = details.get_by_test_id("response-body")
    await expect(body).to_contain_text('"detail": "database unavailable"')  # pretty-printed JSON
    await expect(details.get_by_test_id("attempt-error")).to_contain_text("500")
    await page.get_by_test_id("tab-config").click()
    await expect(page.get_by_test_id("field-url")).to_be_visible()


async def test_retries_show_each_attempt_and_the_wait_between(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/flaky", Reply(503, {"try": "again"}), Reply(200, {"ok": True}))
    graph = chain(("flaky", mock_http.url("/flaky")), name="Flaky")
    graph["nodes"][1]["data"]["settings"] = {"retry": {"maxAttempts": 3, "initialIntervalMs": 200}}
    await load_graph(page, graph)
    await run_to_end(page, "succeeded")
    await page.get_by_test_id("node-flaky").click()
    details = page.get_by_test_id("step-details")
    first, second = details.get_by_test_id("attempt-1"), details.get_by_test_id("attempt-2")
    await expect(first.get_by_test_id("response-status")).to_have_text("503")
    await expect(first.get_by_test_id("response-body")).to_contain_text('"try": "again"')
    await expect(details.get_by_test_id("attempt-wait")).to_contain_text("then tried again")
    await expect(second.get_by_test_id("response-status")).to_have_text("200")
    assert len(mock_http.requests_to("/flaky")) == 2


async def test_an_if_run_shows_the_branch_taken_and_the_one_skipped(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/order", Reply(200, {"id": 7, "amount": 900}))
    await load_graph(page, order_router(mock_http))
    await run_to_end(page, "succeeded")

    await expect(page.get_by_test_id("output-if_1-true")).to_have_attribute("data-taken", "true")
    await expect(page.get_by_test_id("output-if_1-false")).to_have_attribute("data-taken", "false")
    await expect(page.locator('.react-flow__edge[data-id="e-false"]')).to_have_class(re.compile(r"\bis-untaken\b"))
    await expect(page.locator('.react-flow__edge[data-id="e-true"]')).to_have_class(re.compile(r"\bis-taken\b"))
    await expect(page.get_by_test_id("badge-http_2")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-set_1")).to_have_attribute("data-status", "skipped")
    assert [r.json() for r in mock_http.requests_to("/big")] == [{"id": 7}]

    # The run panel lists the steps in graph order, whatever order they finished in.
    rows = page.locator('[data-testid^="step-row-"]')
    await expect(rows).to_have_count(5)
    assert [await r.get_attribute("data-testid") for r in await rows.all()] == [
        "step-row-start", "step-row-http_1", "step-row-if_1", "step-row-http_2", "step-row-set_1",
    ]
    await expect(page.get_by_test_id("step-row-if_1")).to_contain_text("→ true")

    await page.get_by_test_id("node-set_1").click()
    await expect(page.get_by_test_id("step-skip-reason")).to_contain_text("Skipped")
    await page.get_by_test_id("node-if_1").click()
    await expect(page.get_by_test_id("step-handles")).to_have_text("Took “true”")


async def test_the_variable_menu_of_a_narrow_field_stays_inside_the_inspector(page: Page, mock_http: MockHttp) -> None:
    await load_graph(page, order_router(mock_http))
    await page.get_by_test_id("node-set_1").click()
    await page.get_by_test_id("insert-values-value").first.click()
    menu = page.get_by_test_id("variable-menu")
    await expect(menu).to_be_visible()
    inspector = await page.get_by_test_id("inspector").bounding_box()
    box = await menu.bounding_box()
    assert inspector is not None and box is not None
    assert box["x"] >= inspector["x"] and box["x"] + box["width"] <= inspector["x"] + inspector["width"] + 1, (box, inspector)
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        await page.screenshot(path=f"{shots}/set-variable-menu.png")


async def test_a_large_response_kept_apart_is_shown_when_the_step_is_opened(page: Page, mock_http: MockHttp) -> None:
    """A response over 8 KiB is stored apart from the run (the step has only its reference); opening the step
    fetches it, so what the user sees is the same as for a small one."""
    mock_http.reply("/report", Reply(200, {"rows": ["row-%04d" % i for i in range(1500)], "total": 1500}))
    await load_graph(page, chain(("report", mock_http.url("/report")), name="Big report"))
    await run_to_end(page, "succeeded")
    await page.get_by_test_id("node-report").click()
    details = page.get_by_test_id("step-details")
    await expect(details.get_by_test_id("response-status")).to_have_text("200")
    await expect(details.get_by_test_id("response-body")).to_contain_text('"total": 1500')
    await expect(details.get_by_test_id("request-line")).to_have_text(f"GET {mock_http.url('/report')}")
    await expect(details.get_by_test_id("step-output-loading")).to_have_count(0)
