"""Saved workflows in the builder, through Chromium against the real stack: save and reopen, versions and restore,
two tabs that never overwrite each other, activation and the webhook URL, the schedule preview, History's filters
and re-run, the sign-in page, the layout at 1440×900, 1280×720 and 900 px, what Escape closes, and the list's
rename, duplicate and delete."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, FloatRect, Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.support.waiting import eventually
from tests.web.builder import api, chain, expect_toast, import_json, load_graph, node_ids, save, saved_id

SHOTS = Path("/tmp/shots")


async def test_save_reload_reopen_and_restore_a_version(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="Saved one"))
    await expect(page.get_by_test_id("save-state")).to_have_text("not saved")
    await page.get_by_test_id("canvas").click(position={"x": 40, "y": 40})
    await save(page, 1)
    await expect_toast(page, "Saved Saved one as version 1")
    workflow_id = await saved_id(builder_stack, "Saved one")

    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await page.get_by_test_id("workflow-name").fill("Saved one, renamed")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "true")
    await page.get_by_test_id("save-button").click()
    await expect(page.get_by_test_id("save-state")).to_have_text("v2")

    # New, then reopen it from the list.
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("confirm-replace")).to_have_count(0)  # nothing unsaved: no question
    assert await node_ids(page) == ["start"]
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-open-{workflow_id}").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Saved one, renamed")
    assert await node_ids(page) == ["ping", "start"]

    # Restore version 1 (its name), which saving makes version 3.
    await page.get_by_test_id("versions-toggle").click()
    await expect(page.get_by_test_id("version-row-1")).to_be_visible()
    await page.get_by_test_id("version-restore-1").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Saved one")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "true")
    await save(page, 3)
    _, latest = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert latest["version"] == 3 and latest["name"] == "Saved one"
    assert [n["id"] for n in latest["graph"]["nodes"]] == ["start", "ping"]

    # A change on the canvas makes New ask first.
    await page.get_by_test_id("workflow-name").fill("Not saved yet")
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("confirm-replace")).to_be_visible()
    await page.get_by_test_id("confirm-cancel").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Not saved yet")


async def test_a_second_tab_never_overwrites_the_first(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="Shared"))
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Shared")

    second = await page.context.new_page()
    await second.goto("/")
    await expect(second.get_by_test_id("workflow-name")).to_have_value("Shared")  # a new tab starts from the latest draft
    await second.get_by_test_id("workflow-name").fill("Shared, from tab two")
    await save(second, 2)

    await page.get_by_test_id("workflow-name").fill("Shared, from tab one")
    await page.get_by_test_id("save-button").click()
    conflict = page.get_by_test_id("save-conflict")
    await expect(conflict).to_be_visible()
    await expect(conflict).to_contain_text("Version 2 was saved (in another tab, or by someone else) after version 1")
    await expect(conflict.get_by_test_id("confirm-ok")).to_have_text("Load version 2")
    _, latest = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert latest["version"] == 2 and latest["name"] == "Shared, from tab two", "nothing was overwritten"

    # Each tab keeps its own draft across a reload.
    await page.get_by_test_id("confirm-cancel").click()
    await page.wait_for_timeout(400)  # the autosave's debounce
    await page.reload()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Shared, from tab one")
    await second.reload()
    await expect(second.get_by_test_id("workflow-name")).to_have_value("Shared, from tab two")

    # Taking the latest resolves it.
    await page.get_by_test_id("save-button").click()
    await page.get_by_test_id("confirm-ok").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Shared, from tab two")
    await expect(page.get_by_test_id("save-state")).to_have_text("v2")

    # Or keeping one's own work as a new workflow, leaving the other untouched.
    await second.get_by_test_id("workflow-name").fill("Shared, again from tab two")
    await save(second, 3)
    await page.get_by_test_id("workflow-name").fill("Mine")
    await page.get_by_test_id("save-button").click()
    await page.get_by_test_id("save-conflict").get_by_test_id("confirm-alternative").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Mine (copy)")
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    _, listed = await api(builder_stack, "GET", "/v1/workflows")
    assert {(w["name"], w["version"]) for w in listed["workflows"]} == {("Shared, again from tab two", 3), ("Mine (copy)", 1)}
    await second.close()


def webhook_graph(mock_http: MockHttp) -> dict[str, Any]:
    return {
        "meta": {"name": "Hooked"},
        "nodes": [
            {"id": "hook", "type": "webhook", "position": {"x": 0, "y": 0},
             "data": {"label": "Webhook", "config": {"responseMode": "onReceived", "verify": {"kind": "none"}},
                      "samplePayload": {"body": {"n": 1}}}},
            {"id": "ping", "type": "http", "position": {"x": 280, "y": 0},
             "data": {"label": "Ping", "config": {"method": "POST", "url": mock_http.url("/hooked"),
                                                  "json_body": {"n": "{{ payload.body.n }}"}}}},
        ],
        "edges": [{"id": "e1", "source": "hook", "target": "ping"}],
    }


async def test_activate_a_webhook_then_history_filters_reruns_and_opens_it(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    mock_http.reply("/hooked", Reply(200, {"ok": True}))
    mock_http.reply("/other", Reply(500, "down"))
    await load_graph(page, webhook_graph(mock_http))
    await page.get_by_test_id("node-hook").click()
    await expect(page.get_by_test_id("webhook-url-panel")).to_contain_text("Save the workflow to get its URL")
    await save(page, 1)
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id("activate-switch").click()
    await expect(page.get_by_test_id("activate-switch")).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_test_id("current-workflow")).to_contain_text("Active (version 1)")
    await page.keyboard.press("Escape")
    await page.get_by_test_id("node-hook").click()
    url = await page.get_by_test_id("webhook-url").input_value()
    assert re.fullmatch(re.escape(builder_stack.base_url) + r"/v1/hooks/[A-Za-z0-9_-]{20,}", url), url

    # A real request to it, without any token, starts a run that History shows as a webhook run.
    assert builder_stack.http is not None
    async with builder_stack.http.post(url, json={"n": 7}, headers={"Authorization": ""}) as response:
        assert response.status == 202
        hooked = (await response.json())["runId"]
    await builder_stack.finish(hooked)
    assert mock_http.requests_to("/hooked")[-1].json() == {"n": 7}
    # A failing draft run, so the filters have something to tell apart.
    await load_graph(page, chain(("other", mock_http.url("/other")), name="Failing draft"))
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")

    await page.get_by_test_id("history-button").click()
    row = page.get_by_test_id(f"history-row-{hooked}")
    await expect(row).to_have_attribute("data-trigger", "webhook")
    await expect(row).to_contain_text("Webhook")
    await page.get_by_test_id("history-filter-status").select_option("failed")
    await expect(page.locator('[data-testid^="history-row-"]')).to_have_count(1)
    await expect(page.get_by_test_id("history-run-error")).to_contain_text("HTTP 500")
    await page.get_by_test_id("history-filter-status").select_option("")
    workflow_id = await saved_id(builder_stack, "Hooked")
    await page.get_by_test_id("history-filter-workflow").select_option(workflow_id)
    await expect(page.locator('[data-testid^="history-row-"]')).to_have_count(1)

    await page.get_by_test_id(f"history-rerun-{hooked}").click()
    await expect(page.locator('[data-testid^="history-row-"]')).to_have_count(2)

    async def called_twice() -> bool:
        return len(mock_http.requests_to("/hooked")) == 2

    await eventually(called_twice, what="the re-run to call the mock")
    _, runs = await api(builder_stack, "GET", f"/v1/runs?workflowId={workflow_id}")
    assert len(runs["runs"]) == 2 and {r["workflowVersion"] for r in runs["runs"]} == {1}

    await page.get_by_test_id(f"history-open-{hooked}").click()
    await expect(page.get_by_test_id("confirm-replace")).to_have_count(0)  # an imported, unchanged draft: nothing to lose
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Hooked")
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")


async def test_schedule_preview_comes_from_the_server(page: Page, builder_stack: Stack) -> None:
    document = {"meta": {"name": "Nightly"}, "edges": [{"id": "e1", "source": "tick", "target": "ping"}], "nodes": [
        {"id": "tick", "type": "schedule", "position": {"x": 0, "y": 0},
         "data": {"label": "Schedule", "config": {"cron": "30 2 * * *", "timezone": "Europe/Berlin", "catchUp": "none"}}},
        {"id": "ping", "type": "http", "position": {"x": 300, "y": 0},
         "data": {"label": "Ping", "config": {"method": "GET", "url": "http://127.0.0.1:9/ping"}}}]}
    await load_graph(page, document)
    await page.get_by_test_id("node-tick").click()
    runs = page.get_by_test_id("schedule-next-run")
    await expect(runs).to_have_count(3)
    for index in range(3):
        assert "Europe/Berlin" in await runs.nth(index).inner_text()
    cron = page.get_by_test_id("field-cron").locator("input")
    await cron.fill("61 * * * *")
    await expect(page.get_by_test_id("schedule-preview-error")).to_contain_text("cron")


async def test_sign_in_page(browser: Browser, builder_stack: Stack) -> None:
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    await page.goto("/")
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    await page.get_by_test_id("sign-in-token").fill("not-the-token")
    await page.get_by_test_id("sign-in-submit").click()
    await expect(page.get_by_test_id("sign-in-error")).to_have_text("That token is not valid.")
    await page.goto("/?token=also-wrong")  # the old kind of link: it no longer signs in, and says so
    await expect(page.get_by_test_id("sign-in-error")).to_contain_text("automateos sign-in-link")
    assert page.url.endswith("/"), "neither the token nor the note stays in the address"
    await page.get_by_test_id("sign-in-token").fill(builder_stack.admin_token)
    await page.get_by_test_id("sign-in-submit").click()
    await expect(page.get_by_test_id("node-start")).to_be_visible()
    await expect(page.get_by_test_id("session-chip")).to_contain_text("admin")
    storage = await page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert builder_stack.admin_token not in storage and builder_stack.admin_token not in await page.content()
    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    await context.close()


async def inside(page: Page, test_id: str, area: FloatRect) -> bool:
    box = await page.get_by_test_id(test_id).bounding_box()
    return box is not None and (
        box["x"] >= area["x"] - 0.5 and box["x"] + box["width"] <= area["x"] + area["width"] + 0.5
        and box["y"] >= area["y"] - 0.5 and box["y"] + box["height"] <= area["y"] + area["height"] + 0.5
    )


async def steps_show_on_the_canvas(page: Page, *node_ids: str) -> None:
    """Every step whole inside the canvas (not behind the inspector, not past the window's edge), once any refit
    after a resize has settled."""

    async def shown() -> bool:
        area = await page.get_by_test_id("canvas").bounding_box()
        assert area is not None
        return all([await inside(page, f"node-{node_id}", area) for node_id in node_ids])

    await eventually(shown, timeout=5, what=f"steps {node_ids} to show whole on the canvas")


async def test_layout_holds_at_1440_1280_and_900(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    SHOTS.mkdir(exist_ok=True)
    await load_graph(page, webhook_graph(mock_http))
    await save(page, 1)
    await page.get_by_test_id("node-ping").click()
    for width, height in ((1440, 900), (1280, 720), (900, 720)):
        await page.set_viewport_size({"width": width, "height": height})
        window = FloatRect(x=0, y=0, width=width, height=height)
        for test_id in ("save-button", "workflows-button", "history-button", "credentials-button", "run-button",
                        "templates-button", "inspector", "sign-out"):
            assert await inside(page, test_id, window), (width, test_id)
        # The canvas narrows at each breakpoint; the selected step must not end up behind the inspector.
        await steps_show_on_the_canvas(page, "hook", "ping")
        await expect(page.get_by_test_id("field-url")).to_be_in_viewport()
        await page.screenshot(path=str(SHOTS / f"workflows-{width}x{height}.png"))
        await page.get_by_test_id("workflows-button").click()
        await expect(page.get_by_test_id("workflows-drawer")).to_be_in_viewport(ratio=1)  # once it has slid in
        await page.screenshot(path=str(SHOTS / f"workflows-drawer-{width}x{height}.png"))
        await page.keyboard.press("Escape")
        await expect(page.get_by_test_id("workflows-drawer")).to_have_count(0)

    # At 900 px the inspector folds to a strip and back; wider, it has no fold.
    fold = page.get_by_test_id("inspector-fold")
    await fold.click()
    await expect(fold).to_have_attribute("aria-expanded", "false")
    box = await page.get_by_test_id("inspector").bounding_box()
    assert box is not None and box["width"] <= 48 and box["x"] + box["width"] <= 900.5, box
    await expect(page.get_by_test_id("field-url")).to_be_hidden()
    await steps_show_on_the_canvas(page, "hook", "ping")
    await page.screenshot(path=str(SHOTS / "workflows-900x720-folded.png"))
    await fold.click()
    await expect(page.get_by_test_id("field-url")).to_be_in_viewport()
    await fold.click()
    await page.set_viewport_size({"width": 1280, "height": 720})
    await expect(fold).to_be_hidden()
    await expect(page.get_by_test_id("field-url")).to_be_in_viewport()  # the fold applies only to narrow windows


async def test_escape_closes_the_topmost_thing_only(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, webhook_graph(mock_http))
    await save(page, 1)
    ping = page.locator('.react-flow__node[data-id="ping"]')
    await page.get_by_test_id("node-ping").click()
    await expect(ping).to_have_class(re.compile(r"\bselected\b"))

    await page.get_by_test_id("workflows-button").click()
    await expect(page.get_by_test_id("workflows-drawer")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("workflows-drawer")).to_have_count(0)
    await expect(ping).to_have_class(re.compile(r"\bselected\b"))  # closing the drawer kept the selection

    # A menu over a drawer: one press closes the menu, the next the drawer, the third the selection.
    await page.get_by_test_id("history-button").click()
    await expect(page.get_by_test_id("history-drawer")).to_be_visible()
    await page.get_by_test_id("templates-button").click()
    await expect(page.get_by_test_id("templates-menu")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("templates-menu")).to_have_count(0)
    await expect(page.get_by_test_id("history-drawer")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("history-drawer")).to_have_count(0)
    await expect(ping).to_have_class(re.compile(r"\bselected\b"))
    await page.keyboard.press("Escape")
    await expect(ping).not_to_have_class(re.compile(r"\bselected\b"))

    # Escape in the rename field cancels the rename and leaves the drawer open.
    workflow_id = await saved_id(builder_stack, "Hooked")
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-rename-{workflow_id}").click()
    await page.get_by_test_id(f"workflow-rename-input-{workflow_id}").press("Escape")
    await expect(page.get_by_test_id(f"workflow-rename-input-{workflow_id}")).to_have_count(0)
    await expect(page.get_by_test_id("workflows-drawer")).to_be_visible()


async def test_rename_duplicate_and_delete_from_the_list(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="Listed"))
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Listed")
    await page.get_by_test_id("workflows-button").click()
    row = page.get_by_test_id(f"workflow-row-{workflow_id}")
    await expect(row).to_contain_text("Listed")

    await page.get_by_test_id(f"workflow-rename-{workflow_id}").click()
    await page.get_by_test_id(f"workflow-rename-input-{workflow_id}").fill("Listed, renamed")
    await page.get_by_test_id(f"workflow-rename-input-{workflow_id}").press("Enter")
    await expect(row).to_contain_text("Listed, renamed")
    await expect(row).to_contain_text("v2")
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Listed, renamed")  # the open one follows
    await expect(page.get_by_test_id("save-state")).to_have_text("v2")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "false")

    await page.get_by_test_id(f"workflow-duplicate-{workflow_id}").click()
    await expect_toast(page, "Duplicated as Listed, renamed (copy)")
    _, listed = await api(builder_stack, "GET", "/v1/workflows")
    names = {w["name"]: w for w in listed["workflows"]}
    assert set(names) == {"Listed, renamed", "Listed, renamed (copy)"}
    copy = names["Listed, renamed (copy)"]
    assert copy["version"] == 1 and copy["id"] != workflow_id
    _, copied = await api(builder_stack, "GET", f"/v1/workflows/{copy['id']}")
    assert [n["id"] for n in copied["graph"]["nodes"]] == ["start", "ping"]
    await expect(page.get_by_test_id(f"workflow-row-{copy['id']}")).to_be_visible()

    await page.get_by_test_id(f"workflow-delete-{copy['id']}").click()
    await expect(page.get_by_test_id("confirm-delete-workflow")).to_be_visible()
    await page.get_by_test_id("confirm-delete-workflow").get_by_test_id("confirm-ok").click()
    await expect(page.get_by_test_id(f"workflow-row-{copy['id']}")).to_have_count(0)
    status, _ = await api(builder_stack, "GET", f"/v1/workflows/{copy['id']}")
    assert status == 404
    await expect(page.get_by_test_id("workflows-drawer")).to_be_visible()  # the confirm's Escape layer is gone too

    # Deleting the open one leaves its canvas as an unsaved draft.
    await page.get_by_test_id(f"workflow-delete-{workflow_id}").click()
    await page.get_by_test_id("confirm-delete-workflow").get_by_test_id("confirm-ok").click()
    await expect(page.get_by_test_id(f"workflow-row-{workflow_id}")).to_have_count(0)
    await expect(page.get_by_test_id("save-state")).to_have_text("not saved")
    assert await node_ids(page) == ["ping", "start"]


async def test_a_rename_does_not_let_a_stale_tab_overwrite(page: Page, builder_stack: Stack, mock_http: MockHttp) -> None:
    """Tab one has unsaved work on version 1, tab two saves version 2, tab one renames from the list: tab one's
    next save must get the conflict, not overwrite version 2."""
    await load_graph(page, chain(("ping", mock_http.url("/ping")), name="Shared"))
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, "Shared")
    second = await page.context.new_page()
    await second.goto("/")
    await expect(second.get_by_test_id("workflow-name")).to_have_value("Shared")
    await second.get_by_test_id("workflow-name").fill("Shared, from tab two")
    await save(second, 2)

    await page.get_by_test_id("workflow-name").fill("Shared, unsaved in tab one")
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-rename-{workflow_id}").click()
    await page.get_by_test_id(f"workflow-rename-input-{workflow_id}").fill("Renamed")
    await page.get_by_test_id(f"workflow-rename-input-{workflow_id}").press("Enter")
    await expect(page.get_by_test_id(f"workflow-row-{workflow_id}")).to_contain_text("v3")
    await page.keyboard.press("Escape")
    await page.get_by_test_id("save-button").click()
    conflict = page.get_by_test_id("save-conflict")
    await expect(conflict).to_be_visible()
    await expect(conflict).to_contain_text("after version 1")
    _, latest = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert latest["version"] == 3 and latest["name"] == "Renamed"
    _, v2 = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}/versions/2")
    assert v2["name"] == "Shared, from tab two"
    await second.close()


async def test_the_signature_check_is_a_form_not_json(page: Page, builder_stack: Stack) -> None:
    """The Stripe template's webhook: kind and signing secret are picked from lists, and HMAC asks for its header."""
    document = json.loads((Path(__file__).parents[2] / "examples" / "stripe-discord.json").read_text())
    await import_json(page, document)
    await expect(page.get_by_test_id("workflow-name")).to_have_value(document["meta"]["name"])
    await page.get_by_test_id("node-stripe_event").click()
    verify = page.get_by_test_id("field-verify")
    await expect(verify.get_by_test_id("signature-kind")).to_have_value("stripe")
    await expect(verify.locator("textarea")).to_have_count(0)
    await expect(page.get_by_test_id("field-verify-credential").get_by_test_id("credential-picker")).to_have_value(
        "stripeSigningSecret"
    )
    await expect(page.get_by_test_id("field-verify-header")).to_have_count(0)
    await verify.get_by_test_id("signature-kind").select_option("hmac-sha256")
    await page.get_by_test_id("field-verify-header").locator("input").fill("X-Signature")
    await save(page, 1)
    workflow_id = await saved_id(builder_stack, document["meta"]["name"])
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    hook = next(n for n in saved["graph"]["nodes"] if n["id"] == "stripe_event")
    assert hook["data"]["config"]["verify"] == {
        "kind": "hmac-sha256", "credentialName": "stripeSigningSecret", "header": "X-Signature"
    }
    await verify.get_by_test_id("signature-kind").select_option("none")
    await expect(page.get_by_test_id("field-verify-credential")).to_have_count(0)
