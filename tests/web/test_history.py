"""Run history, replay onto the canvas, autosave and New."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp
from tests.web.builder import chain, load_graph, node_ids, run_to_end


async def test_history_replays_a_run_onto_the_canvas(page: Page, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="Replayed"))
    await run_to_end(page, "succeeded")

    await page.reload()  # the graph comes back from autosave; the run panel starts empty
    await expect(page.get_by_test_id("node-ping")).to_be_visible()
    await expect(page.get_by_test_id("badge-ping")).to_have_count(0)

    await page.get_by_test_id("history-button").click()
    rows = page.locator('[data-testid^="history-row-"]')
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-status", "succeeded")
    await expect(rows.first).to_contain_text("Replayed")
    await expect(rows.first).to_contain_text("just now")
    await rows.first.click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-ping")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("step-row-ping")).to_contain_text("Call ping")


async def test_a_run_of_another_graph_only_fills_the_run_panel(page: Page, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="First graph"))
    await run_to_end(page, "succeeded")
    await load_graph(page, chain(("other", mock_http.url("/other")), name="Second graph"))
    await page.get_by_test_id("history-button").click()
    await page.locator('[data-testid^="history-row-"]').first.click()
    await expect(page.get_by_test_id("step-row-ping")).to_contain_text("Call ping")
    await expect(page.get_by_test_id("badge-other")).to_have_count(0)


async def test_autosave_restores_and_new_clears_after_confirm(page: Page) -> None:
    await page.get_by_test_id("workflow-name").fill("Saved across reloads")
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await expect(page.get_by_test_id("node-http_1")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Saved across reloads")
    assert await node_ids(page) == ["http_1", "start"]

    await page.get_by_test_id("new-button").click()
    await page.get_by_test_id("confirm-cancel").click()
    assert await node_ids(page) == ["http_1", "start"]
    await page.get_by_test_id("new-button").click()
    await page.get_by_test_id("confirm-ok").click()
    assert await node_ids(page) == ["start"]
    await page.reload()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Untitled workflow")
    assert await node_ids(page) == ["start"]
