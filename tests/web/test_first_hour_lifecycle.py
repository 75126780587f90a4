"""A new user's first hour with saved workflows (issue 16): a Start → HTTP workflow saved, reopened and run; which
version is live and making the latest live; the URL that names the open workflow; the run's toast and panel."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, expect_toast, load_graph, run_to_end, save, saved_id
from tests.web.conftest import sign_in_link


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


def hooked_graph(url: str, name: str = "Hooked") -> dict[str, Any]:
    """Webhook → HTTP: a trigger that fires only while the workflow is active."""
    return {
        "meta": {"name": name, "version": 1},
        "nodes": [
            {"id": "hook", "type": "webhook", "position": {"x": 0, "y": 0},
             "data": {"label": "Webhook", "config": {"verify": {"kind": "none"}}, "samplePayload": {"body": {"n": 1}}}},
            {"id": "ping", "type": "http", "position": {"x": 280, "y": 0},
             "data": {"label": "Ping", "config": {"method": "GET", "url": url}}},
        ],
        "edges": [{"id": "e1", "source": "hook", "target": "ping"}],
    }


async def activate_in_drawer(page: Page) -> None:
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id("activate-switch").click()
    await expect(page.get_by_test_id("activate-switch")).to_have_attribute("aria-checked", "true")
    await page.keyboard.press("Escape")


async def test_saving_a_live_workflow_says_which_version_is_live_and_makes_the_new_one_live(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    pill = page.get_by_test_id("live-pill")
    await load_graph(page, hooked_graph(mock_http.url("/hooked")))
    await expect(pill).to_have_count(0)  # not saved: nothing can be live
    await save(page, 1)
    await expect(pill).to_have_text("Not live")
    await activate_in_drawer(page)
    await expect(pill).to_have_text("Live: v1")
    await expect(pill).to_have_attribute("data-live", "latest")

    await page.get_by_test_id("workflow-name").fill("Hooked, second version")
    await save(page, 2)
    await expect_toast(page, "Saved Hooked, second version as version 2; version 1 is still the live one")
    await expect(pill).to_contain_text("Live: v1 · v2 saved, not live")
    workflow_id = await saved_id(builder_stack, "Hooked, second version")
    _, before = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert before["activeVersion"] == 1

    await pill.get_by_test_id("make-live").click()
    await expect(pill).to_have_text("Live: v2")
    await expect_toast(page, "Version 2 is live: it answers the trigger now")
    _, after = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert after["active"] is True and after["activeVersion"] == 2
    _, audit = await api(builder_stack, "GET", "/v1/audit?limit=5")
    assert (audit["entries"][0]["action"], audit["entries"][0]["target"], audit["entries"][0]["version"]) == (
        "workflow.activate", workflow_id, 2)

    # The trigger now runs version 2.
    hook = next(t["url"] for t in after["triggers"] if t["url"])
    assert builder_stack.http is not None
    async with builder_stack.http.post(hook, json={"n": 2}, headers={"Authorization": ""}) as response:
        assert response.status == 202
        run_id = (await response.json())["runId"]
    await builder_stack.finish(run_id)
    _, run = await api(builder_stack, "GET", f"/v1/runs/{run_id}")
    assert run["workflowVersion"] == 2


async def hash_of(page: Page) -> str:
    return str(await page.evaluate("() => window.location.hash"))


async def test_the_url_names_the_open_workflow(browser: Browser, page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, hooked_graph(mock_http.url("/one"), name="Linked one"))
    assert await hash_of(page) == ""
    await save(page, 1)
    first = await saved_id(builder_stack, "Linked one")
    await expect(page).to_have_url(re.compile(f"#/workflows/{first}$"))

    # A reload stays on it (and keeps the tab's unsaved change).
    await page.get_by_test_id("workflow-name").fill("Linked one, edited")
    await page.wait_for_function("() => Object.values(localStorage).some(v => v.includes('Linked one, edited'))")
    await page.reload()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Linked one, edited")
    await expect(page).to_have_url(re.compile(f"#/workflows/{first}$"))
    await page.get_by_test_id("workflow-name").fill("Linked one")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "false")

    # New clears it; saving another names that one.
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("save-state")).to_have_text("not saved")
    assert await hash_of(page) == ""
    await load_graph(page, hooked_graph(mock_http.url("/two"), name="Linked two"))
    await save(page, 1)
    second = await saved_id(builder_stack, "Linked two")
    await expect(page).to_have_url(re.compile(f"#/workflows/{second}$"))

    # An address typed or pasted in this tab opens that workflow.
    await page.evaluate(f"() => {{ window.location.hash = '#/workflows/{first}'; }}")
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Linked one")
    await expect(page.get_by_test_id("node-ping")).to_be_visible()
    # One that does not exist says so, and the address goes back to what is open.
    await page.evaluate("() => { window.location.hash = '#/workflows/no-such-workflow'; }")
    await expect_toast(page, re.compile("Couldn’t open the workflow"))
    await expect(page).to_have_url(re.compile(f"#/workflows/{first}$"))

    # A shared link, in a browser that has never seen the builder, opens it after sign-in.
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    try:
        other = await context.new_page()
        await other.goto(f"{await sign_in_link(builder_stack)}#/workflows/{second}")
        await expect(other.get_by_test_id("workflow-name")).to_have_value("Linked two")
        await expect(other.get_by_test_id("save-state")).to_have_text("v1")
        await expect(other).to_have_url(re.compile(f"#/workflows/{second}$"))
    finally:
        await context.close()


async def test_the_run_toast_gives_the_runs_wall_clock_time_and_a_new_run_clears_stale_toasts(
    page: Page, mock_http: MockHttp
) -> None:
    mock_http.reply("/flaky", Reply(500, "down"), Reply(500, "down"), Reply(200, {"ok": True}))
    graph = chain_with_retries(mock_http.url("/flaky"), first_wait_ms=500)
    await load_graph(page, graph)
    await run_to_end(page, "succeeded")
    toast = page.get_by_test_id("toast").filter(has_text="succeeded in")
    await expect(toast).to_have_count(1)
    said = re.search(r"succeeded in ([0-9.]+) (ms|s)", await toast.inner_text())
    assert said is not None
    # Two retry waits of at least 400 and 800 ms (500 and 1000, less up to 20 % jitter) are inside the run.
    seconds = float(said.group(1)) / (1000 if said.group(2) == "ms" else 1)
    assert seconds >= 1.2, said.group(0)
    await expect(page.get_by_test_id("run-duration")).to_have_text(re.compile(r"s$"))

    # A failing run, then a new one: the failure's toast goes when the new run starts.
    mock_http.reply("/flaky", Reply(500, "down"))
    await run_to_end(page, "failed")
    failure = page.get_by_test_id("toast").filter(has_text="failed")
    await expect(failure).to_have_count(1)
    mock_http.reply("/flaky", Reply(200, {"ok": True}))
    await run_to_end(page, "succeeded")
    await expect(failure).to_have_count(0)
    await expect(page.get_by_test_id("toast").filter(has_text="succeeded in")).to_have_count(1)


def chain_with_retries(url: str, first_wait_ms: int) -> dict[str, Any]:
    graph = graph_with_nulls(url)
    graph["meta"]["name"] = "Flaky"
    graph["nodes"][1]["data"]["settings"] = {"retry": {"maxAttempts": 3, "initialIntervalMs": first_wait_ms}}
    return graph


async def test_new_and_open_clear_the_previous_workflows_run(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, hooked_graph(mock_http.url("/one"), name="Has a run"))
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Has a run")
    await run_to_end(page, "succeeded")
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_count(0)
    await expect(page.get_by_test_id("run-panel")).to_contain_text("No run yet")

    await load_graph(page, graph_with_nulls(mock_http.url("/two")))
    await run_to_end(page, "succeeded")
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-open-{workflow_id}").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Has a run")
    await expect(page.get_by_test_id("run-status")).to_have_count(0)


async def test_a_cancelled_run_says_so_plainly(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(200, {"ok": True}, delay_s=30))
    await load_graph(page, graph_with_nulls(mock_http.url("/slow")))
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("step-row-ping")).to_have_attribute("data-status", "running")
    await page.get_by_test_id("cancel-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled")
    await expect(page.get_by_test_id("log-row").filter(has_text="Run cancelled")).to_have_count(1)
    await expect(page.get_by_test_id("toast").filter(has_text="Nulls was cancelled by admin")).to_have_count(1)
    await expect(page.get_by_test_id("run-cancel-note")).to_have_text("Cancelled by admin")
    assert "through the API" not in await page.locator("body").inner_text()
