"""Issue 18 in the builder, through Chromium against the real stack: a loop drawn from an empty canvas shows its body as
a region and its items' progress live; a body step's items are picked one at a time, a page at a time; a subworkflow
step links to its child run and back; a waiting approval is answered from the run panel, and a runner may not.

With SCREENSHOTS_DIR set, the views are saved there at 1440×900, 1280×720 and 900×720.
"""

from __future__ import annotations

import os
import re
from typing import Any

from playwright.async_api import Browser, FloatRect, Locator, Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, canvas_settled, expect_toast, load_graph, save, saved_id
from tests.web.conftest import sign_in_link

SIZES = [(1440, 900), (1280, 720), (900, 720)]

ORDERS = [{"id": 1, "amount": 150}, {"id": 2, "amount": 50}, {"id": 3, "amount": 250}, {"id": 4, "amount": 120},
          {"id": 5, "amount": 30}]
BIG = [i for i, order in enumerate(ORDERS) if order["amount"] > 100]  # the items Slack hears about: 0, 2, 3



async def shot(page: Page, name: str) -> None:
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        await page.screenshot(path=f"{shots}/{name}.png")


def answer_orders(mock_http: MockHttp, slack_delay_s: float = 0.0) -> None:
    mock_http.reply("/orders", Reply(200, {"orders": ORDERS}))
    # One answer per call, in item order (the loop runs one item at a time), so each item's output tells it apart.
    mock_http.reply("/slack", *(Reply(200, {"ok": True, "ts": f"ts-{i}"}, delay_s=slack_delay_s) for i in BIG))
    mock_http.reply("/summary", Reply(200, {"ok": True}))


async def field(page: Page, key: str) -> Locator:
    return page.get_by_test_id("inspector").get_by_test_id(f"field-{key}")


async def add_after(page: Page, node: str, kind: str) -> None:
    """Selects `node`, then adds a `kind` step after it from the palette (on its first output nothing leaves yet)."""
    await page.get_by_test_id(f"node-{node}").click()
    await page.get_by_test_id(f"palette-{kind}").click()


async def http_step(page: Page, url: str, method: str = "GET") -> None:
    await (await field(page, "url")).locator("input").fill(url)
    if method != "GET":
        await (await field(page, "method")).locator("select").select_option(method)


async def draw_order_loop(page: Page, mock_http: MockHttp) -> None:
    """Start → Get orders → Loop (each: If amount > 100 → true: Slack; done: Summary), drawn with the palette."""
    await add_after(page, "start", "http")
    await http_step(page, mock_http.url("/orders"))
    await add_after(page, "http_1", "loop")
    await (await field(page, "items")).locator("input").fill("{{ steps.http_1.output.body.orders }}")
    await add_after(page, "loop_1", "if")  # on `each`, the loop's first output
    await (await field(page, "condition")).locator("textarea").fill("loop.item.amount > 100")
    await add_after(page, "if_1", "http")  # on `true`
    await http_step(page, mock_http.url("/slack"), "POST")
    await add_after(page, "loop_1", "http")  # on `done`, the first output nothing leaves from
    await http_step(page, mock_http.url("/summary"), "POST")
    await expect(page.locator('[data-testid="rf__edge-e-loop_1-each-if_1"]')).to_have_count(1)
    await expect(page.locator('[data-testid="rf__edge-e-if_1-true-http_2"]')).to_have_count(1)
    await expect(page.locator('[data-testid="rf__edge-e-loop_1-done-http_3"]')).to_have_count(1)


def order_loop_graph(mock_http: MockHttp) -> dict[str, Any]:
    """The same workflow as a file, for the tests that need it run rather than drawn."""
    def node(node_id: str, kind: str, x: int, y: int, label: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"label": label}
        if config is not None:
            data["config"] = config
        return {"id": node_id, "type": kind, "position": {"x": x, "y": y}, "data": data}

    def http(url: str, method: str = "GET") -> dict[str, Any]:
        return {"method": method, "url": mock_http.url(url), "timeoutMs": 10000}

    return {
        "nodes": [
            node("start", "start", 0, 0, "Start"),
            node("http_1", "http", 280, 0, "Get orders", http("/orders")),
            node("loop_1", "loop", 560, 0, "Each order",
                 {"items": "{{ steps.http_1.output.body.orders }}", "concurrency": 1, "onItemError": "stop"}),
            node("if_1", "if", 860, 0, "Big order?", {"condition": "loop.item.amount > 100"}),
            node("http_2", "http", 1160, -20, "Tell Slack", http("/slack", "POST")),
            node("http_3", "http", 860, 300, "Summary", http("/summary", "POST")),
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "http_1"},
            {"id": "e2", "source": "http_1", "target": "loop_1"},
            {"id": "e3", "source": "loop_1", "sourceHandle": "each", "target": "if_1"},
            {"id": "e4", "source": "if_1", "sourceHandle": "true", "target": "http_2"},
            {"id": "e5", "source": "loop_1", "sourceHandle": "done", "target": "http_3"},
        ],
        "meta": {"name": "Big orders", "version": 1},
    }


async def box(locator: Locator) -> FloatRect:
    found = await locator.bounding_box()
    assert found is not None
    return found


def holds(outer: FloatRect, inner: FloatRect) -> bool:
    return (outer["x"] <= inner["x"] and outer["y"] <= inner["y"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


async def dismiss_toasts(page: Page) -> None:
    toasts = page.get_by_test_id("toast")
    while await toasts.count():
        await toasts.first.get_by_role("button", name="Dismiss").click()


async def inspector_shown(page: Page) -> None:
    fold = page.get_by_test_id("inspector-fold")
    if await fold.is_visible() and await fold.get_attribute("aria-expanded") == "false":
        await fold.click()


async def run_and_finish(page: Page, status: str = "succeeded") -> None:
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", status)


async def open_step(page: Page, node_id: str) -> Locator:
    """Opens a step's last run from the run panel: the inspector shows its details."""
    await page.get_by_test_id(f"step-row-{node_id}").get_by_role("button", name=re.compile(".")).first.click()
    await inspector_shown(page)
    details = page.get_by_test_id("inspector").get_by_test_id("step-details")
    await expect(details).to_be_visible()
    return details


async def test_a_loop_drawn_saved_reopened_and_run_shows_its_body_and_item_progress(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    answer_orders(mock_http, slack_delay_s=0.4)  # slow enough to see the items go by
    await draw_order_loop(page, mock_http)

    # The body (every step after `each`) is one region, behind its nodes: not the loop, not what follows `done`.
    group = page.get_by_test_id("loop-group-loop_1")
    await expect(group).to_be_visible()
    await expect(group).to_contain_text("For each item of Loop")
    await canvas_settled(page)
    region = await box(group)
    for inside in ("if_1", "http_2"):
        assert holds(region, await box(page.get_by_test_id(f"node-{inside}"))), inside
    assert not holds(region, await box(page.get_by_test_id("node-loop_1")))
    # A body node dragged away takes the region with it, and stays a free node.
    slack = page.get_by_test_id("node-http_2")
    before = await box(slack)
    await page.mouse.move(before["x"] + 60, before["y"] + 20)
    await page.mouse.down()
    await page.mouse.move(before["x"] + 60, before["y"] - 100, steps=8)
    await page.mouse.up()
    await canvas_settled(page)
    assert holds(await box(group), await box(slack))
    assert (await box(group))["height"] > region["height"]

    await page.get_by_test_id("workflow-name").fill("Big orders")
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Big orders")
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    # The region is drawn, not saved: no group or parent node, every node as drawn.
    assert sorted(n["id"] for n in saved["graph"]["nodes"]) == ["http_1", "http_2", "http_3", "if_1", "loop_1", "start"]
    assert not any("parentId" in n or "parentNode" in n or n["type"] == "group" for n in saved["graph"]["nodes"])

    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("loop-group-loop_1")).to_have_count(0)
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-open-{workflow_id}").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Big orders")
    await expect(page.get_by_test_id("loop-group-loop_1")).to_be_visible()
    await page.keyboard.press("Escape")  # the Workflows drawer
    await expect(page.get_by_test_id("workflows-drawer")).to_have_count(0)

    await page.get_by_test_id("run-button").click()
    # Live, from the run's events: some items done, not all, while Slack is slow to answer.
    await expect(page.get_by_test_id("items-loop_1")).to_have_text(re.compile(r"^[1-4] / 5 items$"))
    await expect(page.get_by_test_id("badge-http_2")).to_have_attribute("data-status", "running")
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    total = len(ORDERS)
    for node in ("loop_1", "if_1", "http_2"):
        await expect(page.get_by_test_id(f"items-{node}")).to_have_text(f"{total} / {total} items")
        await expect(page.get_by_test_id(f"items-{node}-failed")).to_have_count(0)
        await expect(page.get_by_test_id(f"step-items-{node}")).to_have_text(f"{total} / {total} items")
    await expect(page.get_by_test_id("items-http_3")).to_have_count(0)  # after `done`: it ran once
    assert len(mock_http.requests_to("/slack")) == len(BIG)
    assert len(mock_http.requests_to("/summary")) == 1

    # A body step's details offer its items, one at a time.
    details = await open_step(page, "http_2")
    picker = details.get_by_test_id("item-picker")
    await expect(picker).to_be_visible()
    await expect(picker).to_contain_text(f"{total} / {total} items")
    await expect(picker.get_by_test_id("item-index")).to_have_value("0")
    await expect(picker.get_by_test_id("item-prev")).to_be_disabled()

    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
        await page.get_by_role("button", name="Fit View").click()
        await canvas_settled(page)
        await expect(page.get_by_test_id("items-loop_1")).to_be_in_viewport()
        await dismiss_toasts(page)
        await shot(page, f"loop-group-after-run-{width}x{height}")


async def test_picking_an_item_of_a_body_step_shows_its_output_a_page_at_a_time(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    answer_orders(mock_http)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/items?" in request.url else None)
    await load_graph(page, order_loop_graph(mock_http))
    await run_and_finish(page)
    await expect(page.get_by_test_id("items-http_2")).to_have_text("5 / 5 items")
    await expect(page.get_by_test_id("items-http_2-skipped")).to_have_text(f"{len(ORDERS) - len(BIG)} skipped")

    details = await open_step(page, "http_2")
    picker = details.get_by_test_id("item-picker")
    result = picker.get_by_test_id("item-result")
    await expect(result).to_have_attribute("data-index", "0")
    await expect(result.get_by_test_id("response-body")).to_contain_text('"ts": "ts-0"')

    # Jump to item 2: its own output.
    await picker.get_by_test_id("item-index").fill("2")
    await picker.get_by_test_id("item-index").press("Enter")
    await expect(result).to_have_attribute("data-index", "2")
    await expect(result.get_by_test_id("item-status")).to_have_attribute("data-status", "succeeded")
    await expect(result.get_by_test_id("response-body")).to_contain_text('"ts": "ts-2"')
    # Previous: item 1 is a small order, where the If did not reach Slack.
    await picker.get_by_test_id("item-prev").click()
    await expect(result).to_have_attribute("data-index", "1")
    await expect(result.get_by_test_id("item-status")).to_have_attribute("data-status", "skipped")
    await expect(result).to_contain_text("Not reached in this item")
    await picker.get_by_test_id("item-chip-2").click()
    await expect(result).to_have_attribute("data-index", "2")
    # A number past the last item is refused, and says which there are.
    await picker.get_by_test_id("item-index").fill("9")
    await expect(picker).to_contain_text("Pick an item from 0 to 4")
    await picker.get_by_test_id("item-index").fill("2")

    # The loop's own items are its body's last step's output, item by item.
    loop_details = await open_step(page, "loop_1")
    loop_picker = loop_details.get_by_test_id("item-picker")
    await loop_picker.get_by_test_id("item-next").click()
    await expect(loop_picker.get_by_test_id("item-result")).to_have_attribute("data-index", "1")

    # Pages, never every item: one request per step, each for a page.
    assert asked, "the picker asked for no items"
    assert all("limit=50" in url and "offset=0" in url for url in asked), asked
    assert len([url for url in asked if "/steps/http_2/" in url]) == 1, asked

    await open_step(page, "http_2")
    await dismiss_toasts(page)
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await inspector_shown(page)
        await expect(page.get_by_test_id("inspector").get_by_test_id("item-result")).to_be_visible()
        await shot(page, f"item-picker-{width}x{height}")
    await page.set_viewport_size({"width": 1440, "height": 900})

    # An item's own run: its steps on the canvas, and a way back to the loop's run.
    parent_run = await page.get_by_test_id("run-status").get_attribute("data-run-id")
    await page.get_by_test_id("inspector").get_by_test_id("open-item-run").click()
    status_line = page.get_by_test_id("run-status")
    await expect(status_line).not_to_have_attribute("data-run-id", parent_run or "")
    await expect(page.get_by_test_id("run-parent")).to_contain_text("An item of run")
    await expect(page.get_by_test_id("run-parent")).to_contain_text("(step loop_1)")
    await expect(page.get_by_test_id("step-row-http_2")).to_have_attribute("data-status", "succeeded")
    await shot(page, "item-run-1440x900")
    await page.get_by_test_id("open-parent-run").click()
    await expect(status_line).to_have_attribute("data-run-id", parent_run or "")


BIG_LOOP = 300  # its output, a result per item, is over 8 KiB, so it is kept apart from the run


def big_loop_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "set_1", "type": "set", "position": {"x": 280, "y": 0},
             "data": {"label": "Numbers", "config": {"values": {"numbers": list(range(BIG_LOOP))}}}},
            {"id": "loop_1", "type": "loop", "position": {"x": 560, "y": 0},
             "data": {"label": "Each number", "config": {"items": "{{ steps.set_1.output.numbers }}", "concurrency": 16,
                                                         "onItemError": "stop"}}},
            {"id": "set_2", "type": "set", "position": {"x": 860, "y": 0},
             "data": {"label": "Square", "config": {"values": {"square": "{{ loop.item * loop.item }}"}}}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "set_1"},
            {"id": "e2", "source": "set_1", "target": "loop_1"},
            {"id": "e3", "source": "loop_1", "sourceHandle": "each", "target": "set_2"},
        ],
        "meta": {"name": "Squares", "version": 1},
    }


async def test_a_big_loop_s_whole_output_is_fetched_only_when_asked_for(page: Page) -> None:
    outputs: list[str] = []
    page.on("request", lambda request: outputs.append(request.url) if request.url.endswith("/output") else None)
    await load_graph(page, big_loop_graph())
    await run_and_finish(page)
    await expect(page.get_by_test_id("items-loop_1")).to_have_text(f"{BIG_LOOP} / {BIG_LOOP} items")
    details = await open_step(page, "loop_1")
    await expect(details.get_by_test_id("item-picker")).to_be_visible()
    await expect(details.get_by_test_id("loop-output-deferred")).to_be_visible()
    assert outputs == []  # not the 300 results up front
    await details.get_by_test_id("loop-output-load").click()
    await expect(details.get_by_test_id("step-output")).to_contain_text('"count": 300')
    assert len(outputs) == 1 and "/steps/loop_1/output" in outputs[0], outputs


async def test_a_big_loop_s_items_come_a_page_at_a_time(page: Page) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/items?" in request.url else None)
    await load_graph(page, big_loop_graph())
    await run_and_finish(page)
    details = await open_step(page, "set_2")
    picker = details.get_by_test_id("item-picker")
    result = picker.get_by_test_id("item-result")
    await expect(result.get_by_test_id("item-output")).to_contain_text('"square": 0')
    await picker.get_by_test_id("item-index").fill("250")
    await picker.get_by_test_id("item-index").press("Enter")
    await expect(result.get_by_test_id("item-output")).to_contain_text('"square": 62500')
    await picker.get_by_test_id("item-next").click()
    await expect(result.get_by_test_id("item-output")).to_contain_text('"square": 63001')
    assert [url.split("/items?", 1)[1] for url in asked] == ["offset=0&limit=50", "offset=250&limit=50"], asked


async def test_a_subworkflow_step_links_to_its_child_run_and_back(page: Page, builder_stack: Stack) -> None:
    child_graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "set_1", "type": "set", "position": {"x": 280, "y": 0},
             "data": {"label": "Greet", "config": {"values": {"greeting": "hello"}}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "set_1"}],
        "meta": {"name": "Greeter", "version": 1},
    }
    status, child = await api(builder_stack, "POST", "/v1/workflows", {"name": "Greeter", "graph": child_graph})
    assert status == 201, child
    parent_graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "sub_1", "type": "subworkflow", "position": {"x": 280, "y": 0},
             "data": {"label": "Call Greeter", "config": {"workflowId": child["id"], "inputs": {}, "waitForCompletion": True}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "sub_1"}],
        "meta": {"name": "Caller", "version": 1},
    }
    await load_graph(page, parent_graph)
    await run_and_finish(page)
    parent_run = await page.get_by_test_id("run-status").get_attribute("data-run-id")

    details = await open_step(page, "sub_1")
    link = details.get_by_test_id("open-child-run")
    await expect(details.get_by_test_id("step-child-run")).to_contain_text("Child run")
    child_run = await link.get_attribute("data-run-id")
    assert child_run and child_run != parent_run
    await link.click()
    # The run panel follows the child run: another workflow's, started by the parent's step.
    status_line = page.get_by_test_id("run-status")
    await expect(status_line).to_have_attribute("data-run-id", child_run)
    await expect(status_line).to_have_attribute("data-status", "succeeded")
    parent = page.get_by_test_id("run-parent")
    await expect(parent).to_contain_text("Started by run")
    await expect(parent).to_contain_text("(step sub_1)")
    await expect(page.get_by_test_id("step-row-set_1")).to_be_visible()

    await parent.get_by_test_id("open-parent-run").click()
    await expect(status_line).to_have_attribute("data-run-id", parent_run or "")
    await expect(page.get_by_test_id("run-parent")).to_have_count(0)
    await expect(page.get_by_test_id("badge-sub_1")).to_have_attribute("data-status", "succeeded")


def approval_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "wait_1", "type": "wait", "position": {"x": 280, "y": 0},
             "data": {"label": "Approve refund", "config": {"resume": "approval", "timeoutSeconds": 3600,
                                                             "message": "Refund {{ 40 + 2 }} EUR to ada@example.com?"}}},
            {"id": "set_1", "type": "set", "position": {"x": 580, "y": -60},
             "data": {"label": "Refund", "config": {"values": {"refunded": "yes"}}}},
            {"id": "set_2", "type": "set", "position": {"x": 580, "y": 120},
             "data": {"label": "Tell them no", "config": {"values": {"refunded": "no"}}}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "wait_1"},
            {"id": "e2", "source": "wait_1", "sourceHandle": "approved", "target": "set_1"},
            {"id": "e3", "source": "wait_1", "sourceHandle": "rejected", "target": "set_2"},
        ],
        "meta": {"name": "Refunds", "version": 1},
    }


async def test_a_waiting_approval_is_approved_from_the_run_panel_and_the_run_goes_on(
    page: Page, builder_stack: Stack
) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await load_graph(page, approval_graph())
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("badge-wait_1")).to_have_attribute("data-status", "waiting")

    details = await open_step(page, "wait_1")
    answer = details.get_by_test_id("wait-answer")
    await expect(answer.get_by_test_id("wait-message")).to_have_text("Refund 42 EUR to ada@example.com?")
    await expect(answer.get_by_test_id("wait-timeout")).to_contain_text(re.compile(r"\(in (1 h|59 min)\)"))
    url = await answer.get_by_test_id("resume-url").input_value()
    assert re.fullmatch(r"https?://[^/]+/v1/resume/[\w.-]+", url), url
    await answer.get_by_test_id("resume-url-copy").click()
    await expect_toast(page, "Resume URL copied")
    assert await page.evaluate("() => navigator.clipboard.readText()") == url
    await expect(answer.get_by_test_id("approve")).to_be_enabled()

    await expect(answer.get_by_test_id("resume-url-open")).to_have_attribute("href", url)
    await dismiss_toasts(page)
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await inspector_shown(page)
        await expect(page.get_by_test_id("inspector").get_by_test_id("approve")).to_be_visible()
        await expect(page.get_by_test_id("run-wait_1-approve")).to_be_visible()
        await shot(page, f"waiting-approval-{width}x{height}")
    await page.set_viewport_size({"width": 1440, "height": 900})

    await page.get_by_test_id("run-wait_1-approve").click()
    await expect_toast(page, re.compile(r"Approved: Approve refund goes on"))
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-set_1")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-set_2")).to_have_attribute("data-status", "skipped")
    await expect(page.get_by_test_id("run-wait_1-approve")).to_have_count(0)

    # Answering twice: the URL says it was answered, and the builder says so in words.
    status, body = await api(builder_stack, "POST", "/" + url.split("://", 1)[1].split("/", 1)[1], {"approved": False})
    assert status == 409 and body["error"]["code"] == "already_resumed", body


async def test_a_runner_sees_a_waiting_approval_but_not_its_resume_url(page: Page, browser: Browser, builder_stack: Stack) -> None:
    await load_graph(page, approval_graph())
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("badge-wait_1")).to_have_attribute("data-status", "waiting")
    run_id = await page.get_by_test_id("run-status").get_attribute("data-run-id")
    await expect(page.get_by_test_id("run-wait_1-approve")).to_be_enabled()  # an admin may

    status, created = await api(builder_stack, "POST", "/v1/tokens", {"name": "watcher", "role": "runner"})
    assert status == 201, created
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    try:
        runner = await context.new_page()
        await runner.goto(await sign_in_link(builder_stack, created["token"]))
        await runner.get_by_test_id("history-button").click()
        await runner.get_by_test_id(f"history-row-{run_id}").click()
        row = runner.get_by_test_id("step-row-wait_1")
        await expect(row).to_contain_text("waiting for approval: Refund 42 EUR to ada@example.com?")
        # The server gives a runner no resume URL (holding it is answering), so there is nothing to press.
        await expect(runner.get_by_test_id("run-wait_1-approve")).to_have_count(0)
        await expect(runner.get_by_test_id("resume-url")).to_have_count(0)
    finally:
        await context.close()
