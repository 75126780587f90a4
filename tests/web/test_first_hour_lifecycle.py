"""A new user's first hour with saved workflows (issue 16): a Start → HTTP workflow saved, reopened and run; which
version is live and making the latest live; the URL that names the open workflow."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, load_graph, run_to_end, save, saved_id


async def build_start_to_http(page: Page, url: str, name: str) -> None:
    """From the empty canvas, as a person does: Start selected, HTTP Request from the palette, its URL typed."""
    await page.get_by_test_id("workflow-name").fill(name)
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill(url)
    await expect(page.get_by_test_id("run-button")).to_be_enabled()


async def test_start_to_http_saved_reloaded_reopened_and_run(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/first", Reply(200, {"ok": True}))
    await build_start_to_http(page, mock_http.url("/first"), "First hour")
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "First hour")
    _, stored = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert stored["graph"]["nodes"][0]["id"] == "start"

    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await expect(page.get_by_test_id("run-button")).to_be_enabled()

    # Reopened from Workflows (after New, so the canvas really comes from the server).
    await page.get_by_test_id("new-button").click()
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-open-{workflow_id}").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("First hour")
    await expect(page.get_by_test_id("run-blocked-reason")).to_have_count(0)
    await page.keyboard.press("Escape")
    await run_to_end(page, "succeeded")
    assert len(mock_http.requests_to("/first")) == 1

    # And from History → Open in editor, at the version that ran.
    await page.get_by_test_id("new-button").click()
    await page.get_by_test_id("history-button").click()
    runs = page.locator('[data-testid^="history-open-"]')
    await expect(runs).to_have_count(1)
    await runs.first.click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("First hour")
    await expect(page.get_by_test_id("run-blocked-reason")).to_have_count(0)
    await page.keyboard.press("Escape")
    await run_to_end(page, "succeeded")
    assert len(mock_http.requests_to("/first")) == 2


def graph_with_nulls(url: str) -> dict[str, Any]:
    """What the server sent before it stopped sending nulls: a Start with `config: null`, a step with `settings: null`."""
    return {
        "meta": {"name": "Nulls", "version": 1},
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start", "config": None}},
            {"id": "ping", "type": "http", "position": {"x": 280, "y": 0},
             "data": {"label": "Ping", "config": {"method": "GET", "url": url}, "settings": None}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "ping"}],
    }


async def test_an_imported_file_with_null_config_and_settings_runs(page: Page, mock_http: MockHttp) -> None:
    await load_graph(page, graph_with_nulls(mock_http.url("/nulls")))
    await expect(page.get_by_test_id("run-blocked-reason")).to_have_count(0)
    await run_to_end(page, "succeeded")
