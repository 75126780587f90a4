"""Issue 16, the canvas and the inspector: what a new user meets in the first hour, through the real stack.

Insert variable offers the trigger's payload (and puts a bare path in a condition), an If written without {{ }}
takes the right branch, a JSON body stays JSON, the trigger changes in place, and the canvas keeps focus, says
why it refuses a connection and fits itself after a reload.
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Page, expect

from tests.web.builder import canvas_settled, load_graph, run_to_end


# Resolves after three animation frames: whatever the page scheduled for the next frames has run.
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(r))))"


async def pane_click(page: Page) -> None:
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})


async def change_trigger(page: Page, to: str) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id(f"change-trigger-{to}").click()
    await expect(page.get_by_test_id(f"node-{to}")).to_be_visible()
    await expect(page.get_by_test_id("node-start")).to_have_count(0)


async def test_an_if_built_with_insert_variable_takes_the_false_branch_for_a_small_order(page: Page) -> None:
    await change_trigger(page, "webhook")
    await page.get_by_test_id("sample-payload").fill(json.dumps({"body": {"amount": 20, "currency": "usd"}}))
    await page.get_by_test_id("palette-if").click()  # after the selected trigger
    await expect(page.locator(".react-flow__edge")).to_have_count(1)

    await page.get_by_test_id("insert-condition").click()
    menu = page.get_by_test_id("variable-menu")
    amount = menu.get_by_test_id("variable-option").filter(has_text=re.compile(r"^payload\.body\.amount"))
    # The trigger's payload fields, nested, with their types; a condition takes them without {{ }}.
    await expect(amount).to_contain_text("number")
    await expect(menu.get_by_role("group", name="Trigger payload")).to_contain_text("payload.body.currency")
    await amount.click()
    condition = page.get_by_test_id("field-condition").locator("textarea")
    await expect(condition).to_have_value("payload.body.amount")
    await expect(condition).to_be_focused()
    await page.keyboard.type(" > 100")
    await expect(condition).to_have_value("payload.body.amount > 100")

    for branch in ("big", "small"):  # the first free output each time: true, then false
        await page.get_by_test_id("node-if_1").click()
        await page.get_by_test_id("palette-set").click()
        await page.get_by_label("Values 1 name").fill(branch)
        await page.get_by_label("Values 1 value").fill("{{payload.body.amount}}")
    await expect(page.locator(".react-flow__edge")).to_have_count(3)

    await run_to_end(page, "succeeded")
    await expect(page.get_by_test_id("output-if_1-false")).to_have_attribute("data-taken", "true")
    await expect(page.get_by_test_id("output-if_1-true")).to_have_attribute("data-taken", "false")
    await expect(page.get_by_test_id("badge-set_2")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-set_1")).to_have_attribute("data-status", "skipped")
    await expect(page.get_by_role("dialog")).to_have_count(0)


async def test_payload_names_are_never_asked_for_as_run_inputs(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-set").click()
    await page.get_by_label("Values 1 name").fill("title")
    await page.get_by_label("Values 1 value").fill("{{payload.title}}")
    await pane_click(page)
    await expect(page.get_by_test_id("checks-ok")).to_be_visible()
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_be_visible()
    await expect(page.get_by_role("dialog")).to_have_count(0)


async def test_insert_variable_into_the_default_json_body_keeps_it_json(page: Page) -> None:
    await change_trigger(page, "webhook")
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/orders")
    await page.get_by_test_id("body-mode-json").click()
    body = page.get_by_test_id("json-body")
    await expect(body).to_have_value("{}")
    await page.get_by_test_id("insert-json_body").click()
    await page.get_by_test_id("variable-option").filter(has_text="{{payload.body}}").click()
    await expect(body).to_have_value('{\n  "field": "{{payload.body}}"\n}')
    await expect(page.get_by_test_id("field-json_body-error")).to_have_count(0)
    # The new property's name is selected: typing renames it.
    await expect(body).to_be_focused()
    await page.keyboard.type("order")
    await expect(body).to_have_value('{\n  "order": "{{payload.body}}"\n}')

    # Past the closing brace, where nothing fits: a new last property, still JSON.
    await body.press("Control+End")
    await page.get_by_test_id("insert-json_body").click()
    await page.get_by_test_id("variable-option").filter(has_text="{{payload.method}}").click()
    assert json.loads(await body.input_value()) == {"order": "{{payload.body}}", "method": "{{payload.method}}"}
    await expect(page.get_by_test_id("field-json_body-error")).to_have_count(0)
    await expect(page.get_by_test_id("run-button")).to_be_enabled()


async def test_the_trigger_changes_in_place_and_an_empty_canvas_offers_a_picker(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/a")
    await change_trigger(page, "schedule")
    await expect(page.locator(".react-flow__edge")).to_have_count(1)  # its step stays connected
    await page.get_by_test_id("change-trigger-webhook").click()
    await expect(page.get_by_test_id("node-webhook")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(1)
    await expect(page.get_by_test_id("node-webhook")).not_to_contain_text("onReceived")
    await expect(page.get_by_test_id("run-button")).to_be_enabled()

    await page.get_by_test_id("node-webhook").click()
    await page.get_by_test_id("node-webhook").press("Delete")
    picker = page.get_by_test_id("trigger-picker")
    await expect(picker).to_be_visible()
    await picker.get_by_test_id("trigger-pick-start").click()
    await expect(picker).to_have_count(0)
    await expect(page.get_by_test_id("node-start")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(1)  # before the step nothing led into
    await expect(page.get_by_test_id("run-button")).to_be_enabled()


async def test_schedule_is_cron_or_every_never_both(page: Page) -> None:
    await change_trigger(page, "schedule")
    inspector = page.get_by_test_id("inspector")
    node = page.get_by_test_id("node-schedule")
    await expect(node).to_contain_text("0 9 * * 1-5")
    await expect(page.get_by_test_id("field-intervalSeconds")).to_have_count(0)

    await page.get_by_test_id("choice-intervalSeconds").click()
    await expect(page.get_by_test_id("field-cron")).to_have_count(0)
    every = page.get_by_test_id("field-intervalSeconds").locator("input")
    await every.fill("5")
    await page.get_by_test_id("unit-intervalSeconds").select_option("seconds")
    await expect(node).to_contain_text("every 5 s")
    await expect(node).not_to_contain_text("1-5")
    times = page.get_by_test_id("schedule-next-run")
    await expect(times).to_have_count(3)
    shown = [await t.locator("time").inner_text() for t in await times.all()]
    assert len(set(shown)) == 3, shown  # seconds shown when the ticks differ only in seconds
    await page.get_by_test_id("unit-intervalSeconds").select_option("minutes")
    await expect(node).to_contain_text("every 300 s")
    await expect(inspector).not_to_contain_text("intervalSeconds")
    await expect(inspector.locator(".field__error")).to_have_count(0)

    await page.get_by_test_id("choice-cron").click()  # back: the cron typed before comes back, the interval goes
    await expect(page.get_by_test_id("field-cron").locator("input")).to_have_value("0 9 * * 1-5")
    await expect(node).to_contain_text("0 9 * * 1-5")
    await expect(page.get_by_test_id("schedule-preview-error")).to_have_count(0)
    await expect(inspector.get_by_test_id("node-issues")).to_have_count(0)


async def test_palette_click_with_nothing_selected_adds_after_the_last_step(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/a")
    await pane_click(page)
    await page.get_by_test_id("palette-delay").click()
    await expect(page.get_by_test_id("node-delay_1")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(2)
    await expect(page.locator('.react-flow__edge[data-testid="rf__edge-e-http_1-delay_1"]')).to_have_count(1)
    await expect(page.get_by_test_id("issues-delay_1")).to_have_count(0)


async def test_a_refused_loop_says_why_and_focus_stays_on_the_canvas(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/a")
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/b")
    await canvas_settled(page)

    source = await page.locator('[data-testid="node-http_2"] .react-flow__handle.source').bounding_box()
    target = await page.locator('[data-testid="node-http_1"] .react-flow__handle.target').bounding_box()
    assert source and target
    await page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=12)
    await page.mouse.up()
    await expect(page.get_by_test_id("canvas-notice")).to_contain_text("would make a loop")
    await expect(page.locator(".react-flow__edge")).to_have_count(2)

    wrapper = page.locator('.react-flow__node[data-id="http_1"]')
    await page.get_by_test_id("node-http_1").click()
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("inspector").get_by_test_id("field-url")).to_have_count(0)  # unselected
    await page.evaluate(FRAMES)  # React Flow blurs the node in the frame after the key
    await expect(wrapper).to_be_focused()
    ring = await wrapper.evaluate("el => getComputedStyle(el.firstElementChild).outlineStyle")
    assert ring == "solid", ring
    await page.keyboard.press("Delete")  # nothing selected after Escape: nothing goes
    await expect(page.get_by_test_id("node-http_1")).to_have_count(1)
    await page.keyboard.press("Enter")  # selects the focused node, as React Flow does
    await page.keyboard.press("Delete")
    await expect(page.get_by_test_id("node-http_1")).to_have_count(0)
    await expect(page.get_by_test_id("canvas")).to_be_focused()  # the node is gone: the canvas keeps the focus


async def test_the_canvas_is_fitted_after_a_reload_and_when_a_workflow_is_opened(page: Page) -> None:
    graph = {
        "nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}]
        + [
            {"id": f"http_{i}", "type": "http", "position": {"x": 280 * i, "y": 0},
             "data": {"label": f"Step {i}", "config": {"method": "GET", "url": "https://example.com"}}}
            for i in range(1, 6)
        ],
        "edges": [{"id": f"e{i}", "source": "start" if i == 1 else f"http_{i - 1}", "target": f"http_{i}"} for i in range(1, 6)],
        "meta": {"name": "Wide", "version": 1},
    }
    await load_graph(page, graph)
    canvas = page.get_by_test_id("canvas")
    box = await canvas.bounding_box()
    assert box
    # Pan the graph far off to the left, then reload: the view must show every step again.
    await page.mouse.move(box["x"] + box["width"] - 30, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 30, box["y"] + 40, steps=10)
    await page.mouse.up()
    await page.reload()
    await expect(page.get_by_test_id("node-http_5")).to_be_visible()
    await expect_whole_graph_in_view(page, ["start", "http_5"])

    # Saved, then reopened from Workflows over a new canvas (whose one step the view is fitted to): fitted again.
    await page.get_by_test_id("save-button").click()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await page.get_by_test_id("new-button").click()
    await expect(page.get_by_test_id("node-http_5")).to_have_count(0)
    await canvas_settled(page)
    await page.get_by_test_id("workflows-button").click()
    await page.locator('[data-testid^="workflow-open-"]').first.click()
    await expect(page.get_by_test_id("node-http_5")).to_be_visible()
    await page.keyboard.press("Escape")  # the drawer
    await expect_whole_graph_in_view(page, ["start", "http_5"])


async def expect_whole_graph_in_view(page: Page, node_ids: list[str]) -> None:
    await canvas_settled(page)
    box = await page.get_by_test_id("canvas").bounding_box()
    assert box
    for node_id in node_ids:
        node = await page.get_by_test_id(f"node-{node_id}").bounding_box()
        assert node
        assert box["x"] <= node["x"] and node["x"] + node["width"] <= box["x"] + box["width"], (node_id, node, box)
        assert box["y"] <= node["y"] and node["y"] + node["height"] <= box["y"] + box["height"], (node_id, node, box)
