"""The workflow's inputs and "Expose as MCP tool" in the builder (issue 21, item 1): typed fields, never raw JSON,
saved beside the graph, shown again after a reload, and a run without a required input refused in words."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.stack import Stack
from tests.web.builder import api, load_graph, save, saved_id


def weather() -> dict[str, object]:
    return {
        "meta": {"name": "Weather tool", "version": 1, "description": "Tomorrow's sky in a city"},
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "say", "type": "set", "position": {"x": 280, "y": 0},
             "data": {"label": "Say", "config": {"values": {"city": "{{ city }}"}}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "say"}],
    }


async def test_inputs_are_typed_fields_saved_beside_the_graph_and_checked_on_run(page: Page, builder_stack: Stack) -> None:
    await load_graph(page, weather())
    await page.get_by_test_id("workflow-input-add").click()
    await page.get_by_label("Input 1 name").fill("city")
    row = page.get_by_test_id("workflow-input-row").first
    await row.get_by_role("checkbox").check()
    await page.get_by_label("Input 1 description").fill("the city to look up")
    await page.get_by_test_id("workflow-input-add").click()
    await page.get_by_label("Input 2 name").fill("my days")
    await expect(page.get_by_test_id("workflow-inputs").get_by_role("alert")).to_contain_text("letters, digits and _")
    await page.get_by_label("Input 2 name").fill("days")
    await page.get_by_label("Input 2 type").select_option("integer")
    await page.get_by_test_id("expose-as-tool-switch").click()
    await save(page, 1)

    workflow_id = await saved_id(builder_stack, "Weather tool")
    _, stored = await api(builder_stack, "GET", f"/v1/workflows/{workflow_id}")
    assert stored["exposeAsTool"] is True and stored["description"] == "Tomorrow's sky in a city"
    assert stored["inputSchema"] == {
        "type": "object", "required": ["city"],
        "properties": {"city": {"type": "string", "description": "the city to look up"}, "days": {"type": "integer"}},
    }
    assert "inputSchema" not in stored["graph"]["meta"]

    await page.reload()
    await expect(page.get_by_label("Input 1 name")).to_have_value("city")
    await expect(page.get_by_label("Input 2 type")).to_have_value("integer")
    await expect(page.get_by_test_id("expose-as-tool-switch")).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "false")

    status, refused = await api(builder_stack, "POST", "/v1/runs", {"workflowId": workflow_id, "inputs": {"days": 2}})
    assert status == 422 and refused["error"]["fields"][0] == {
        "field": "inputs.city", "reason": "is required", "nodeId": None, "edgeId": None}

    # Run asks for the declared inputs, says their types, and sends each as its type.
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-input-city")).to_contain_text("Text, required")
    await expect(page.get_by_test_id("run-input-city")).to_contain_text("the city to look up")
    await expect(page.get_by_test_id("run-input-days")).to_contain_text("Integer, optional")
    await page.get_by_test_id("run-input-city").locator("input").fill("Oslo")
    await page.get_by_test_id("run-input-days").locator("input").fill("3")
    await page.get_by_test_id("run-inputs-submit").click()
    shown = page.get_by_test_id("run-status")
    await expect(shown).to_have_attribute("data-status", "succeeded")
    run = await builder_stack.get_run(str(await shown.get_attribute("data-run-id")))
    start = next(step for step in run["steps"] if step["id"] == "start")
    assert start["output"] == {"city": "Oslo", "days": 3}, "the trigger's output is the run's inputs"
