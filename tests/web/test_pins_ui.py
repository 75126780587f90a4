"""Pins and Test step in the builder (issue 20): run a workflow once, pin a step's output, test the next step alone
against it, edit and unpin the pin; the pin is saved with the workflow and marked on the canvas."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, expect_toast, load_graph, run_to_end, save, saved_id


def node(node_id: str, node_type: str, label: str, config: dict[str, Any], x: int, y: int = 100) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "position": {"x": x, "y": y}, "data": {"label": label, "config": config}}


def order_router(mock_http: MockHttp) -> dict[str, Any]:
    """Webhook (a sample payload) → charge → over 100 and charged? → big | small."""
    hook = node("hook", "webhook", "Order webhook", {"responseMode": "onReceived"}, 0)
    hook["data"]["samplePayload"] = {"body": {"amount": 150}}
    return {
        "meta": {"name": "Pinned orders", "version": 1},
        "nodes": [
            hook,
            node("charge", "http", "Charge", {"method": "POST", "url": mock_http.url("/charge"),
                                              "json_body": {"amount": "{{ payload.body.amount }}"}}, 260),
            node("check", "if", "Big and charged?", {"condition": "payload.body.amount > 100 and steps.charge.output.body.ok"}, 520),
            node("big", "http", "Big", {"method": "POST", "url": mock_http.url("/big")}, 800, 0),
            node("small", "http", "Small", {"method": "POST", "url": mock_http.url("/small")}, 800, 220),
        ],
        "edges": [
            {"id": "e1", "source": "hook", "target": "charge"},
            {"id": "e2", "source": "charge", "target": "check"},
            {"id": "e-true", "source": "check", "sourceHandle": "true", "target": "big"},
            {"id": "e-false", "source": "check", "sourceHandle": "false", "target": "small"},
        ],
    }


async def run_test_step(page: Page) -> str:
    """Test step on the selected node; waits for the test run to end, and returns its id."""
    shown = page.get_by_test_id("run-status")
    previous = await shown.get_attribute("data-run-id")
    await page.get_by_test_id("test-step").click()
    await expect(shown).not_to_have_attribute("data-run-id", previous or "")
    await expect(shown).to_have_attribute("data-status", "succeeded")
    return str(await shown.get_attribute("data-run-id"))


async def test_pin_a_step_then_test_the_next_alone_edit_and_unpin_and_the_pin_is_saved(
        page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/charge", Reply(200, {"ok": True, "id": "ch_1"}))
    mock_http.reply("/big", Reply(200, {}))
    mock_http.reply("/small", Reply(200, {}))
    await load_graph(page, order_router(mock_http))
    await expect(page.get_by_test_id("pinned-hook")).to_be_visible()  # a sample payload is the trigger's pin
    await run_to_end(page, "succeeded")
    assert [r.path for r in mock_http.received] == ["/charge", "/big"]

    # Pin the charge's output from its Last run tab: the canvas marks it.
    await page.get_by_test_id("node-charge").click()
    await page.get_by_test_id("tab-run").click()
    await page.get_by_test_id("pin-output").click()
    await expect_toast(page, "Pinned the output of Charge")
    await expect(page.get_by_test_id("pinned-charge")).to_be_visible()

    # Test the If alone: nothing is called, it takes "true", and the steps after it are skipped.
    await page.get_by_test_id("node-check").click()
    run_id = await run_test_step(page)
    assert [r.path for r in mock_http.received] == ["/charge", "/big"], "a test of the If calls nothing"
    await expect(page.get_by_test_id("output-check-true")).to_have_attribute("data-taken", "true")
    details = page.get_by_test_id("step-details")
    await expect(details.get_by_test_id("step-details-status")).to_have_attribute("data-status", "succeeded")
    await expect(details.get_by_test_id("step-handles")).to_contain_text("“true”")
    _, run = await api(builder_stack, "GET", f"/v1/runs/{run_id}")
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["charge"]["pinned"] is True and steps["check"]["handles"] == ["true"]
    assert steps["big"]["status"] == "skipped" and steps["small"]["status"] == "skipped"
    await expect(page.get_by_test_id("badge-charge")).to_have_text("Pinned, not run")

    # Edit the pin as JSON: the charge failed; the If now takes "false".
    await page.get_by_test_id("node-charge").click()
    await page.get_by_test_id("tab-config").click()
    editor = page.get_by_test_id("pinned-json")
    await expect(editor).to_contain_text('"ok": true')
    await editor.fill(json.dumps({"status": 402, "body": {"ok": False}}))
    await page.get_by_test_id("node-check").click()
    await run_test_step(page)
    await expect(page.get_by_test_id("output-check-false")).to_have_attribute("data-taken", "true")
    assert [r.path for r in mock_http.received] == ["/charge", "/big"]

    # Saved with the workflow, and still there after a reload.
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Pinned orders")
    _, stored = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    [charge] = [n for n in stored["graph"]["nodes"] if n["id"] == "charge"]
    assert charge["data"]["pinned"] == {"status": 402, "body": {"ok": False}}
    await page.reload()
    await expect(page.get_by_test_id("pinned-charge")).to_be_visible()

    # A manual Run uses the pin (the charge is not called); unpinned, the charge runs again.
    await run_to_end(page, "succeeded")
    assert [r.path for r in mock_http.received] == ["/charge", "/big", "/small"]
    await page.get_by_test_id("node-charge").click()
    await page.get_by_test_id("tab-config").click()
    await page.get_by_test_id("unpin").click()
    await expect(page.get_by_test_id("pinned-charge")).to_have_count(0)
    await run_to_end(page, "succeeded")
    assert [r.path for r in mock_http.received] == ["/charge", "/big", "/small", "/charge", "/big"]
