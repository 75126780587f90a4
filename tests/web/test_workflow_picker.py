"""The `workflow` widget and the workflow's error workflow: a saved workflow is picked by its name and stored by its
id, an id no saved workflow has is shown as unknown, Open goes to the picked one, and the workflow being edited is
never offered. The error workflow is saved beside the graph, and the server keeps it.

No node type uses the widget in this branch yet (issue 18's `subworkflow` step comes from another), so the test
registers one of its own in the registry the in-process gateway serves, with a name the real one will not take."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from pydantic import BaseModel, ConfigDict, Field

from schemas import REGISTRY, NodeType
from schemas.node_types import FieldUi, NodeUi
from tests.support.stack import Stack
from tests.web.builder import api, canvas_settled, load_graph, save, saved_id


class CallConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    workflowId: str = Field(min_length=1)
    waitForCompletion: bool = True


CALL = NodeType(
    type="test_call", kind="action", title="Call a workflow (test)", description="Runs another workflow (test only)",
    config=CallConfig,  # type: ignore[arg-type]  # any pydantic model will do for the builder
    order=97,
    ui=NodeUi(
        glyph="W", accent="#0891b2", defaultLabel="Call", summary="{workflowId}", idPrefix="call",
        defaults={"waitForCompletion": True},
        fields={
            "workflowId": FieldUi(widget="workflow", label="Workflow", order=0, help="The saved workflow to run"),
            "waitForCompletion": FieldUi(widget="switch", label="Wait for it to finish", order=1),
        },
    ),
)


@pytest.fixture
def call_type() -> Iterator[NodeType]:
    """Registered before the gateway starts (the fixture comes first), gone again after the test."""
    REGISTRY.register(CALL)
    yield CALL
    REGISTRY.unregister(CALL.type)


async def saved_workflow(stack: Stack, name: str) -> str:
    """A saved workflow with nothing but its trigger, made behind the builder's back; its id."""
    graph = {"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}],
             "edges": [], "meta": {"name": name, "version": 1}}
    status, body = await api(stack, "POST", "/v1/workflows", {"name": name, "graph": graph})
    assert status == 201, body
    return str(body["id"])


def caller(workflow_id: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "call_1", "type": "test_call", "position": {"x": 280, "y": 0},
             "data": {"label": "Call", "config": {"workflowId": workflow_id, "waitForCompletion": True}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "call_1"}],
        "meta": {"name": "Caller", "version": 1},
    }


async def option_names(picker: Locator) -> list[str]:
    await expect(picker.get_by_role("listbox")).to_be_visible()
    return await picker.get_by_test_id("workflow-option").locator(".workflow-picker__name").all_inner_texts()


async def exported(page: Page) -> dict[str, Any]:
    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    document: dict[str, Any] = json.loads(Path(await (await download_info.value).path()).read_text())
    return document


async def deselect(page: Page) -> None:
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})


async def test_a_workflow_is_picked_by_name_and_stored_by_id(call_type: NodeType, page: Page, builder_stack: Stack) -> None:
    report = await saved_workflow(builder_stack, "Nightly report")
    alert = await saved_workflow(builder_stack, "Alert on-call")
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-test_call").click()
    field = page.get_by_test_id("field-workflowId")
    picker = field.get_by_test_id("workflow-picker-workflowId")
    combobox = picker.get_by_role("combobox")
    await expect(page.get_by_test_id("field-workflowId-error")).to_be_visible()  # required, not picked yet

    await combobox.click()
    assert await option_names(picker) == ["Alert on-call", "Nightly report"]  # most recently changed first
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        await page.screenshot(path=f"{shots}/workflow-picker-1440x900.png")
    await combobox.fill("report")
    assert await option_names(picker) == ["Nightly report"]
    await combobox.fill("ALERT")
    await page.keyboard.press("Enter")
    await expect(combobox).to_have_value("Alert on-call")  # the name shows ...
    await expect(picker.get_by_role("listbox")).to_have_count(0)
    await expect(page.get_by_test_id("field-workflowId-error")).to_have_count(0)
    await expect(picker.get_by_test_id("workflow-open-link")).to_have_attribute("href", f"#/workflows/{alert}")
    document = await exported(page)  # ... and the id is stored
    assert next(n for n in document["nodes"] if n["id"] == "call_1")["data"]["config"]["workflowId"] == alert

    # Chosen with the mouse; Escape closes the list without a choice and keeps the step.
    await combobox.click()
    await picker.get_by_test_id("workflow-option").filter(has_text="Nightly report").click()
    await expect(combobox).to_have_value("Nightly report")
    await combobox.click()
    await page.keyboard.press("Escape")
    await expect(picker.get_by_role("listbox")).to_have_count(0)
    await expect(page.get_by_test_id("node-call_1")).to_be_visible()
    await expect(combobox).to_have_value("Nightly report")

    # Saved, the workflow being edited is never offered to call itself.
    await page.get_by_test_id("workflow-name").fill("Caller")
    await save(page, 1)
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{await saved_id(builder_stack, 'Caller')}")
    assert next(n for n in saved["graph"]["nodes"] if n["id"] == "call_1")["data"]["config"]["workflowId"] == report
    await page.get_by_test_id("node-call_1").click()
    await combobox.click()
    assert await option_names(picker) == ["None", "Alert on-call", "Nightly report"]
    await page.keyboard.press("Escape")

    # Open goes to the picked workflow (nothing unsaved here, so no question first).
    await picker.get_by_test_id("workflow-open-link").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Nightly report")
    assert page.url.endswith(f"#/workflows/{report}")


async def test_an_id_no_saved_workflow_has_is_shown_as_unknown(call_type: NodeType, page: Page, builder_stack: Stack) -> None:
    alert = await saved_workflow(builder_stack, "Alert on-call")
    await load_graph(page, caller("wf_00000000deadbeef"))
    await page.get_by_test_id("node-call_1").click()
    picker = page.get_by_test_id("workflow-picker-workflowId")
    await expect(picker.get_by_role("combobox")).to_have_value("Unknown workflow wf_00000000deadbeef")
    await expect(picker.get_by_test_id("workflow-unknown")).to_contain_text("No saved workflow has the id wf_00000000deadbeef")
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        await page.screenshot(path=f"{shots}/workflow-picker-unknown-1440x900.png")
    await expect(picker.get_by_role("combobox")).to_have_attribute("aria-invalid", "true")
    await expect(picker.get_by_test_id("workflow-open-link")).to_have_count(0)

    await picker.get_by_role("combobox").click()
    await picker.get_by_test_id("workflow-option").filter(has_text="Alert on-call").click()
    await expect(picker.get_by_test_id("workflow-unknown")).to_have_count(0)
    await expect(picker.get_by_test_id("workflow-open-link")).to_have_attribute("href", f"#/workflows/{alert}")


async def test_the_error_workflow_is_picked_in_the_workflow_settings(page: Page, builder_stack: Stack) -> None:
    alert = await saved_workflow(builder_stack, "Alert on-call")
    await deselect(page)
    field = page.get_by_test_id("field-errorWorkflow")
    await expect(field).to_contain_text("Error workflow")
    combobox = field.get_by_role("combobox")
    await expect(combobox).to_have_value("")
    await combobox.click()
    await field.get_by_test_id("workflow-option").filter(has_text="Alert on-call").click()
    await expect(combobox).to_have_value("Alert on-call")
    assert (await exported(page))["meta"]["errorWorkflowId"] == alert
    await expect(page.get_by_test_id("save-state")).to_have_text("not saved")

    # Saved beside the graph, not in it; the tab's draft keeps it across a reload.
    await page.get_by_test_id("workflow-name").fill("Orders")
    await save(page, 1)
    orders = await saved_id(builder_stack, "Orders")
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{orders}")
    assert "errorWorkflowId" not in saved["graph"]["meta"]
    await page.reload()
    await expect(page.get_by_test_id("save-state")).to_have_text("v1")
    await expect(page.get_by_test_id("field-errorWorkflow").get_by_role("combobox")).to_have_value("Alert on-call")

    # Never itself; None clears it, and the canvas is unsaved again.
    combobox = page.get_by_test_id("field-errorWorkflow").get_by_role("combobox")
    await combobox.click()
    assert await option_names(page.get_by_test_id("error-workflow-picker")) == ["None", "Alert on-call"]
    await page.get_by_test_id("error-workflow-picker").get_by_test_id("workflow-option").filter(has_text="None").click()
    await expect(combobox).to_have_value("")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "true")
    assert "errorWorkflowId" not in (await exported(page))["meta"]


async def test_the_error_workflow_round_trips_through_the_server(page: Page, builder_stack: Stack) -> None:
    alert = await saved_workflow(builder_stack, "Alert on-call")
    await deselect(page)
    picker = page.get_by_test_id("error-workflow-picker")
    await picker.get_by_role("combobox").click()
    await picker.get_by_test_id("workflow-option").filter(has_text="Alert on-call").click()
    await page.get_by_test_id("workflow-name").fill("Orders")
    await save(page, 1)
    orders = await saved_id(builder_stack, "Orders")
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{orders}")
    assert saved["errorWorkflowId"] == alert

    # Reopened from the server in a fresh canvas (not the tab's draft).
    await page.get_by_test_id("new-button").click()
    await deselect(page)
    await expect(picker.get_by_role("combobox")).to_have_value("")
    await page.get_by_test_id("workflows-button").click()
    await page.get_by_test_id(f"workflow-open-{orders}").click()
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Orders")
    await canvas_settled(page)
    await page.get_by_test_id("workflows-button").click()  # closes the drawer
    await deselect(page)
    await expect(picker.get_by_role("combobox")).to_have_value("Alert on-call")

    # Cleared and saved: the server holds none.
    await picker.get_by_role("combobox").click()
    await picker.get_by_test_id("workflow-option").filter(has_text="None").click()
    await save(page, 2)
    _, saved = await api(builder_stack, "GET", f"/v1/workflows/{orders}")
    assert saved["errorWorkflowId"] is None
