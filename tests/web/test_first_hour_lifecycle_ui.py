"""The builder's frame in a new user's first hour (issue 16, item 7): a header that fits with a long name and a warning
at 1440×900, 1280×720 and 900×720; drawers that take focus and give it back; History that follows runs live and tells
their ids apart. With SCREENSHOTS_DIR set, screenshots of each size are saved there."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, load_graph, save
from tests.web.test_first_hour_lifecycle import activate_in_drawer, hooked_graph

# With SCREENSHOTS_DIR set, each size is saved there to be looked at (as tests/web/test_first_hour_canvas_shots.py).
SHOTS = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None
LONG_NAME = "Quarterly invoices to the finance channel"  # 41 characters
SIZES = ((1440, 900), (1280, 720), (900, 720))


_FITS = """() => {
  window.scrollTo(10000, 0);
  const scrolled = window.scrollX;
  window.scrollTo(0, 0);
  const root = document.documentElement;
  const header = document.querySelector('.toolbar');
  // Side by side, nothing drawn over its neighbour: every shown item of the header, left to right.
  const items = [...header.querySelectorAll('.toolbar__brand > *, .toolbar__group > *, :scope > .run-blocked')]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 1)
    .sort((a, b) => a.left - b.left);
  const overlaps = items.filter((r, i) => i > 0 && r.left < items[i - 1].right - 0.5 && r.top < items[i - 1].bottom).length;
  return {scrolled, wide: root.scrollWidth - root.clientWidth, overlaps};
}"""


async def whole_on_screen(page: Page, test_id: str, width: int, height: int) -> bool:
    box = await page.get_by_test_id(test_id).bounding_box()
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


async def test_the_header_fits_with_a_long_name_a_warning_and_the_live_pill(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
    mock_http.reply("/ping", Reply(200, {"ok": True}))
    await load_graph(page, hooked_graph(mock_http.url("/ping"), LONG_NAME))
    await save(page, 1)
    await activate_in_drawer(page)
    await page.get_by_test_id("node-ping").click()
    await page.get_by_test_id("field-label").locator("input").fill("Ping the finance channel")
    await save(page, 2)
    await expect(page.get_by_test_id("live-pill")).to_contain_text("v2 saved, not live")
    # An unsaved change that blocks Run: the warning pill shows beside everything else.
    await page.get_by_test_id("field-url").locator("input").fill("")
    await expect(page.get_by_test_id("run-blocked-reason")).to_be_visible()

    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        if SHOTS is not None:  # before the checks: a failure is seen
            await page.screenshot(path=str(SHOTS / f"header-{width}x{height}.png"))
        for test_id in ("run-button", "history-button", "credentials-button", "save-button", "live-pill", "run-blocked-reason"):
            await expect(page.get_by_test_id(test_id)).to_be_visible()
            assert await whole_on_screen(page, test_id, width, height), (width, test_id)
        fits = await page.evaluate(_FITS)
        assert fits == {"scrolled": 0, "wide": 0, "overlaps": 0}, (width, fits)


async def test_drawers_take_focus_and_give_it_back(page: Page) -> None:
    for button, drawer in (("history-button", "history-drawer"), ("workflows-button", "workflows-drawer"),
                           ("credentials-button", "credentials-drawer")):
        await page.get_by_test_id(button).focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id(drawer)).to_be_visible()
        inside = await page.evaluate(f"() => !!document.activeElement?.closest('[data-testid=\"{drawer}\"]')")
        assert inside, f"{drawer} did not take focus"
        await page.keyboard.press("Escape")
        await expect(page.get_by_test_id(drawer)).to_have_count(0)
        await expect(page.get_by_test_id(button)).to_be_focused()


async def test_history_follows_runs_live_and_tells_their_ids_apart(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=1.0))
    graph = hooked_graph(mock_http.url("/slow"), "Live in history")
    await load_graph(page, graph)
    await save(page, 1)
    _, listed = await api(builder_stack, "GET", "/v1/workflows")
    workflow_id = listed["workflows"][0]["id"]

    await page.get_by_test_id("history-button").click()
    await expect(page.get_by_text("No runs yet")).to_be_visible()
    # Runs the builder did not start (as a webhook or a schedule would): they appear and finish without a Refresh.
    started = await asyncio.gather(*[
        api(builder_stack, "POST", "/v1/runs", {"workflowId": workflow_id, "version": 1, "idempotencyKey": f"live-{n}"})
        for n in range(2)
    ])
    ids = [body["runId"] for status, body in started if status == 201]
    assert len(ids) == 2, started
    for run_id in ids:
        await expect(page.get_by_test_id(f"history-row-{run_id}")).to_be_visible()
    for run_id in ids:
        await expect(page.get_by_test_id(f"history-row-{run_id}")).to_have_attribute("data-status", "succeeded")

    shown = [await page.get_by_test_id(f"history-copy-{run_id}").inner_text() for run_id in ids]
    assert shown[0] != shown[1], shown
    for run_id, text in zip(ids, shown):
        assert text.strip("…") in run_id
        assert run_id in (await page.get_by_test_id(f"history-copy-{run_id}").get_attribute("title") or "")


async def test_a_live_workflow_with_history_open_at_each_size(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    """The screenshots a person looks at: a saved, live workflow after a run, with History open beside it."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
    mock_http.reply("/ping", Reply(200, {"ok": True}))
    await load_graph(page, hooked_graph(mock_http.url("/ping"), "Order notifications"))
    await save(page, 1)
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id("activate-switch").click()
    await expect(page.get_by_test_id("live-pill")).to_have_text("Live: v1")
    await page.keyboard.press("Escape")
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    await page.get_by_test_id("history-button").click()
    await expect(page.locator('[data-testid^="history-row-"]')).to_have_count(1)
    for width, height in SIZES:
        await page.set_viewport_size({"width": width, "height": height})
        await expect(page.get_by_test_id("history-drawer")).to_be_in_viewport(ratio=1)
        for test_id in ("run-button", "live-pill", "history-button"):
            assert await whole_on_screen(page, test_id, width, height), (width, test_id)
        if SHOTS is not None:
            await page.screenshot(path=str(SHOTS / f"builder-history-{width}x{height}.png"))
