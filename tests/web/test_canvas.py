"""Drawing on the canvas: adding, connecting, moving, selecting, deleting, undo and redo."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.web.builder import node_ids


async def drag(page: Page, source: str, target: str, shift: bool = False) -> None:
    """Mouse-drag from the centre of one element to the centre of another."""
    start = await page.locator(source).bounding_box()
    end = await page.locator(target).bounding_box()
    assert start and end
    if shift:
        await page.keyboard.down("Shift")
    await page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    await page.mouse.up()
    if shift:
        await page.keyboard.up("Shift")


async def test_palette_click_adds_a_connected_step_and_drop_adds_a_free_one(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await expect(page.get_by_test_id("node-http_1")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(1)
    await expect(page.get_by_test_id("run-blocked-reason")).to_contain_text("URL is required")

    await page.get_by_test_id("palette-http").drag_to(page.get_by_test_id("canvas"), target_position={"x": 300, "y": 120})
    await expect(page.get_by_test_id("node-http_2")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(1)
    await expect(page.get_by_test_id("issues-http_2")).to_contain_text("problems")

    await drag(page, '[data-testid="node-http_1"] .react-flow__handle.source', '[data-testid="node-http_2"] .react-flow__handle.target')
    await expect(page.locator(".react-flow__edge")).to_have_count(2)


async def test_undo_and_redo_from_keyboard_and_toolbar(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    node = page.get_by_test_id("node-http_1")
    await expect(node).to_be_visible()

    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await node.click()
    await page.keyboard.press("Delete")
    await expect(node).to_have_count(0)
    await page.keyboard.press("Control+z")  # undo delete
    await expect(node).to_have_count(1)
    await page.keyboard.press("Control+z")  # undo add
    await expect(node).to_have_count(0)
    await page.keyboard.press("Control+Shift+z")  # redo add
    await expect(node).to_have_count(1)
    await page.keyboard.press("Control+y")  # redo delete
    await expect(node).to_have_count(0)
    await page.get_by_test_id("undo-button").click()
    await expect(node).to_have_count(1)
    await expect(page.get_by_test_id("redo-button")).to_be_enabled()

    # A drag is one undo step, recorded when the drag ends.
    wrapper = page.locator('.react-flow__node[data-id="http_1"]')
    at_rest = await wrapper.evaluate("el => getComputedStyle(el).transform")
    before = await node.bounding_box()
    assert before
    await page.mouse.move(before["x"] + 60, before["y"] + 20)
    await page.mouse.down()
    for dx in range(10, 130, 10):
        await page.mouse.move(before["x"] + 60 + dx, before["y"] + 20 + dx / 2)
    await page.mouse.up()
    await expect(wrapper).not_to_have_css("transform", at_rest)
    await page.get_by_test_id("undo-button").click()
    await expect(wrapper).to_have_css("transform", at_rest)
    await page.get_by_test_id("redo-button").click()
    await expect(wrapper).not_to_have_css("transform", at_rest)


async def test_multi_select_moves_and_deletes_together(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("palette-http").click()
    await expect(page.get_by_test_id("node-http_2")).to_be_visible()

    await page.get_by_test_id("node-http_1").click()
    await page.get_by_test_id("node-http_2").click(modifiers=["Shift"])
    await expect(page.get_by_test_id("inspector")).to_contain_text("2 steps selected")
    await page.get_by_test_id("delete-button").click()
    assert await node_ids(page) == ["start"]
    await page.keyboard.press("Control+z")
    await expect(page.get_by_test_id("node-http_2")).to_be_visible()

    # Shift-drag a box around everything.
    pane = await page.get_by_test_id("canvas").bounding_box()
    assert pane
    await page.keyboard.down("Shift")
    await page.mouse.move(pane["x"] + 10, pane["y"] + 10)
    await page.mouse.down()
    await page.mouse.move(pane["x"] + pane["width"] - 10, pane["y"] + pane["height"] * 0.7, steps=10)
    await page.mouse.up()
    await page.keyboard.up("Shift")
    await expect(page.get_by_test_id("inspector")).to_contain_text("3 steps selected")
    await page.keyboard.press("Backspace")
    assert await node_ids(page) == []


async def test_a_switch_has_one_output_per_case_and_edges_keep_theirs(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-switch").click()
    switch = page.get_by_test_id("node-switch_1")
    await expect(switch.locator(".react-flow__handle.source")).to_have_count(3)  # a, b, default
    await page.get_by_test_id("field-value").locator("input").fill("{{ inputs.region }}")
    await page.get_by_label("Cases 1").fill("eu")
    await page.get_by_test_id("cases-add").click()
    await page.get_by_label("Cases 3").fill("asia")
    await expect(page.get_by_test_id("output-switch_1-eu")).to_have_text("eu")
    await expect(page.get_by_test_id("output-switch_1-asia")).to_be_visible()
    await expect(switch.locator(".react-flow__handle.source")).to_have_count(4)

    await page.get_by_test_id("palette-set").drag_to(page.get_by_test_id("canvas"), target_position={"x": 700, "y": 640})
    await expect(page.get_by_test_id("node-set_1")).to_be_visible()
    await drag(page, '[data-testid="output-switch_1-asia"] .react-flow__handle', '[data-testid="node-set_1"] .react-flow__handle.target')
    edge = page.locator('.react-flow__edge[data-id="e-switch_1-asia-set_1"]')
    await expect(edge).to_have_count(1)

    # Renaming the case moves the edge with it; removing the case removes the edge.
    await page.get_by_test_id("node-switch_1").click()
    await page.get_by_label("Cases 3").fill("apac")
    await expect(page.get_by_test_id("output-switch_1-apac")).to_be_visible()
    await expect(page.locator(".react-flow__edge")).to_have_count(2)
    await page.get_by_role("button", name="Remove case apac").click()
    await expect(page.locator(".react-flow__edge")).to_have_count(1)
