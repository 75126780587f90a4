"""The builder's Import (issue 20), through Chromium against the real stack: an n8n export and a Node-RED flow, written
here in each tool's exported format, are detected, reported node by node before the canvas changes, replace it, are
saved, reloaded and run against a local mock; what is not a workflow is refused inside the dialog in words.

With SCREENSHOTS_DIR set, the dialog is saved there at 1440×900, 1280×720 and 900×720.
"""

from __future__ import annotations

import json
import re
import os
from typing import Any

from playwright.async_api import Page, expect

from tests.imports.documents import n8n_everything
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import canvas_settled, expect_toast, import_json, node_ids, run_to_end, save, saved_id

SIZES = [(1440, 900), (1280, 720), (900, 720)]


async def shots(page: Page, name: str) -> None:
    """The page at each size, then back to the fixture's 1440×900."""
    if not (where := os.environ.get("SCREENSHOTS_DIR")):
        return
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=f"{where}/{name}-{width}x{height}.png")
    await page.set_viewport_size({"width": 1440, "height": 900})


def n8n_export(orders_url: str) -> dict[str, Any]:
    """Webhook → HTTP Request (v4.2) → If (v2), as n8n's Download writes it. The If compares ignoring case, which has
    no counterpart here: the importer marks it review."""
    def node(name: str, type_: str, version: float, parameters: dict[str, Any], x: int) -> dict[str, Any]:
        return {"parameters": parameters, "id": f"6f1c{x:04d}-3b1a-4c55-9d0e-1d2a7c1b{x:04d}", "name": name,
                "type": f"n8n-nodes-base.{type_}", "typeVersion": version, "position": [x, 300]}

    return {
        "name": "Orders from n8n",
        "nodes": [
            node("Webhook", "webhook", 2, {"path": "orders", "httpMethod": "POST", "options": {}}, 0)
            | {"webhookId": "0b9a7c55-4c1f-4f0e-9a43-7f1d3a0e1c2b"},
            node("Fetch status", "httpRequest", 4.2, {"url": orders_url, "options": {}}, 220),
            node("Booked?", "if", 2, {"conditions": {
                "options": {"caseSensitive": False, "leftValue": "", "typeValidation": "strict"},
                "conditions": [{"id": "c1", "leftValue": "={{ $json.status }}", "rightValue": "ok",
                                "operator": {"type": "string", "operation": "equals"}}],
                "combinator": "and"}, "options": {}}, 440),
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "Fetch status", "type": "main", "index": 0}]]},
            "Fetch status": {"main": [[{"node": "Booked?", "type": "main", "index": 0}]]},
        },
        "active": False,
        "settings": {"executionOrder": "v1"},
        "versionId": "a3c1f0de-5b7e-4d1c-8f2a-9e6b4d3c2a10",
        "meta": {"instanceId": "4f2c"},
        "tags": [],
    }


def node_red_flow(status_url: str) -> list[dict[str, Any]]:
    """http in → http request → http response, as Node-RED's Export → JSON writes a tab."""
    return [
        {"id": "f1a2b3c4d5e6f7a8", "type": "tab", "label": "Ping flow", "disabled": False, "info": ""},
        {"id": "1a2b3c4d5e6f7081", "type": "http in", "z": "f1a2b3c4d5e6f7a8", "name": "", "url": "/ping",
         "method": "post", "upload": False, "swaggerDoc": "", "x": 120, "y": 100, "wires": [["2b3c4d5e6f708192"]]},
        {"id": "2b3c4d5e6f708192", "type": "http request", "z": "f1a2b3c4d5e6f7a8", "name": "Call status",
         "method": "GET", "ret": "obj", "paytoqs": "ignore", "url": status_url, "tls": "", "persist": False,
         "proxy": "", "insecureHTTPParser": False, "authType": "", "senderr": False, "headers": [],
         "x": 320, "y": 100, "wires": [["3c4d5e6f708192a3"]]},
        {"id": "3c4d5e6f708192a3", "type": "http response", "z": "f1a2b3c4d5e6f7a8", "name": "", "statusCode": "",
         "headers": {}, "x": 520, "y": 100, "wires": []},
    ]


async def rows(page: Page) -> list[tuple[str, str, str]]:
    """Each report row: its node id on the canvas ('' when dropped), its status and the badge's words."""
    found: list[list[str]] = await page.get_by_test_id("import-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.nodeId, r.dataset.status,"
        " r.querySelector('[data-testid=import-row-status]').textContent])")
    return [(node_id, status, badge) for node_id, status, badge in found]


async def test_an_n8n_export_is_reported_then_replaces_the_canvas_saves_and_runs(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    mock_http.reply("/orders/status", Reply(200, {"status": "ok"}))
    dialog = page.get_by_test_id("import-dialog")

    await page.get_by_test_id("import-button").click()
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("import-text")).to_be_focused()
    # Tab stays inside the dialog, both ways.
    for key in ["Tab"] * 6 + ["Shift+Tab"] * 8:
        await page.keyboard.press(key)
        assert await dialog.evaluate("d => d.contains(document.activeElement)"), f"focus left the dialog on {key}"

    await import_json(page, n8n_export(mock_http.url("/orders/status")), "orders.n8n.json")
    await expect(dialog).to_have_attribute("data-stage", "report")
    await expect(page.get_by_test_id("import-source")).to_have_text("n8n")
    await expect(page.get_by_test_id("import-name")).to_have_text("Orders from n8n")
    await expect(page.get_by_test_id("import-count-converted")).to_have_text("2 converted")
    await expect(page.get_by_test_id("import-count-review")).to_have_text("1 to review")
    await expect(page.get_by_test_id("import-count-unsupported")).to_have_text("0 unsupported")
    await expect(page.get_by_test_id("import-next")).to_contain_text("1 step needs review: the notes say what to check.")
    assert await rows(page) == [
        ("webhook", "converted", "Converted"),
        ("fetch_status", "converted", "Converted"),
        ("booked", "review", "Review"),
    ]
    review = page.locator('[data-testid=import-row][data-status=review]')
    await expect(review).to_contain_text("Booked?")
    await expect(review).to_contain_text("if")  # n8n's type, without its package
    await expect(review).to_contain_text("n8n compared text ignoring case; here the comparison is exact")
    await expect(page.locator('[data-testid=import-row][data-node-id=webhook]')).to_contain_text("is not kept")
    assert await node_ids(page) == ["start"]  # nothing has changed yet
    await shots(page, "import-report")

    await page.get_by_test_id("import-replace").click()
    await expect(dialog).to_have_count(0)
    await expect(page.get_by_test_id("confirm-replace")).to_have_count(0)  # an empty canvas: nothing to lose
    await expect_toast(page, "Imported Orders from n8n from n8n: 1 step to check, listed in Import report")
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Orders from n8n")
    assert await node_ids(page) == ["booked", "fetch_status", "webhook"]
    await canvas_settled(page)
    webhook, fetch, booked = [await page.get_by_test_id(f"node-{n}").bounding_box() for n in ("webhook", "fetch_status", "booked")]
    assert webhook and fetch and booked
    assert webhook["x"] < fetch["x"] < booked["x"] and abs(webhook["y"] - booked["y"]) < 2  # n8n's row stays a row

    # The report stays: its row selects the step to fix.
    await expect(page.get_by_test_id("import-report-button")).to_contain_text("1")
    await shots(page, "import-replaced")
    await page.get_by_test_id("import-report-button").click()
    kept = page.get_by_test_id("import-report-dialog")
    await shots(page, "import-report-kept")
    await expect(kept.locator('[data-testid=import-row][data-status=review]')).to_contain_text("Booked?")
    await kept.locator('[data-testid=import-row][data-node-id=booked]').get_by_test_id("import-row-select").click()
    await expect(kept).to_have_count(0)
    await expect(page.locator('.react-flow__node[data-id="booked"]')).to_have_class(re.compile(r"\bselected\b"))

    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Orders from n8n")
    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    assert page.url.endswith(f"#/workflows/{workflow_id}")
    await expect(page.get_by_test_id("import-report-button")).to_have_count(0)  # kept in memory only
    await run_to_end(page, "succeeded")
    for step in ("fetch_status", "booked"):
        await expect(page.get_by_test_id(f"badge-{step}")).to_have_attribute("data-status", "succeeded")
    assert len(mock_http.requests_to("/orders/status")) == 1


async def test_a_node_red_flow_replaces_a_saved_workflow_and_runs(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/status", Reply(200, {"up": True}))
    await import_json(page, node_red_flow(mock_http.url("/status")), "flows.json")
    await expect(page.get_by_test_id("import-source")).to_have_text("Node-RED")
    await expect(page.get_by_test_id("import-name")).to_have_text("Ping flow")
    await expect(page.get_by_test_id("import-count-converted")).to_have_text("3 converted")
    await expect(page.get_by_test_id("import-next")).to_have_text(
        "Everything converted. Save it (Ctrl+S), then run it like any workflow.")
    assert await rows(page) == [
        ("http_in", "converted", "Converted"),
        ("call_status", "converted", "Converted"),
        ("", "converted", "Converted"),  # the http response is folded into the webhook
    ]
    dropped = page.locator('[data-testid=import-row][data-node-id=""]')
    await expect(dropped).to_contain_text("not on the canvas")
    await expect(dropped).to_contain_text("Dropped: the webhook answers with the run's last step's output")

    await page.get_by_test_id("import-replace").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Ping flow")
    assert await node_ids(page) == ["call_status", "http_in"]
    await expect(page.get_by_test_id("import-report-button")).to_have_count(0)  # nothing to review: nothing kept
    await save(page, 1)
    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Ping flow")
    await run_to_end(page, "succeeded")
    await expect(page.get_by_test_id("badge-call_status")).to_have_attribute("data-status", "succeeded")
    assert len(mock_http.requests_to("/status")) == 1

    # A saved, unchanged workflow is replaced without a question; an edited one asks first.
    await page.get_by_test_id("workflow-name").fill("Ping flow, edited")
    await import_json(page, n8n_export(mock_http.url("/orders/status")))
    await page.get_by_test_id("import-replace").click()
    await expect(page.get_by_test_id("confirm-replace")).to_contain_text("Import Orders from n8n from n8n?")
    await page.get_by_test_id("confirm-cancel").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Ping flow, edited")


async def test_what_is_not_a_workflow_is_refused_in_the_dialog(page: Page) -> None:
    await page.get_by_test_id("import-button").click()
    check = page.get_by_test_id("import-check")
    await expect(check).to_be_disabled()  # nothing pasted yet
    await page.get_by_test_id("import-text").fill(json.dumps({"hello": 1}))
    await check.click()
    error = page.get_by_test_id("import-error")
    await expect(error).to_contain_text("The document is not a workflow that can be imported")
    await expect(error).to_contain_text("document is not a workflow this server can read; expected an n8n workflow "
                                        "(an object with nodes[] and connections), a Node-RED flow")
    await expect(page.get_by_test_id("import-dialog")).to_have_attribute("data-stage", "choose")
    await shots(page, "import-refused")

    await page.get_by_test_id("import-text").fill('{"nodes": [')
    await check.click()
    await expect(error).to_contain_text("This is not JSON")

    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("import-dialog")).to_have_count(0)
    await expect(page.get_by_test_id("import-button")).to_be_focused()  # focus goes back where it was
    assert await node_ids(page) == ["start"]


async def test_a_long_report_scrolls_inside_the_dialog_and_its_actions_stay_in_view(page: Page) -> None:
    await import_json(page, n8n_everything(), "everything.json")
    await expect(page.get_by_test_id("import-row")).to_have_count(len(n8n_everything()["nodes"]))
    await expect(page.get_by_test_id("import-replace")).to_be_focused()
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await expect(page.get_by_test_id("import-replace")).to_be_in_viewport(ratio=1)
        await expect(page.get_by_test_id("import-next")).to_be_in_viewport(ratio=1)
        box = await page.get_by_test_id("import-dialog").bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height and box["width"] <= width
    await page.set_viewport_size({"width": 1440, "height": 900})
    await shots(page, "import-report-long")
