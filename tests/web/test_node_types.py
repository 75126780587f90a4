"""The palette and the step forms come from GET /v1/node-types: every type the server declares can be added
and filled in, including one registered in Python alone, with no change to the builder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.async_api import Locator, Page, expect
from pydantic import BaseModel, ConfigDict, Field

from schemas import REGISTRY, NodeType
from schemas.node_types import FieldUi, NodeUi
from tests.support.stack import Stack


async def node_types(stack: Stack) -> list[dict[str, Any]]:
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}/v1/node-types") as response:
        assert response.status == 200, await response.text()
        types: list[dict[str, Any]] = (await response.json())["nodeTypes"]
        return types


async def fill(page: Page, key: str, ui: dict[str, Any], schema: dict[str, Any]) -> None:
    """Fills one field with a value its declaration suggests: the placeholder, or one any schema accepts."""
    field = page.get_by_test_id(f"field-{key}")
    example = ui.get("placeholder")
    widget = ui["widget"]
    if widget in ("text", "expression", "textarea"):
        await field.locator("input, textarea").first.fill(example or "value")
    elif widget == "number":
        await field.locator("input").fill(example or str(schema.get("minimum", 1)))
    elif widget == "select":
        options = await field.locator("option").all_inner_texts()
        await field.locator("select").select_option(options[-1])
    elif widget == "switch":
        before = await field.get_by_role("switch").get_attribute("aria-checked")
        await field.get_by_role("switch").click()
        await expect(field.get_by_role("switch")).not_to_have_attribute("aria-checked", before or "")
    elif widget in ("keyValue", "valueMap"):
        await page.get_by_test_id(f"{key}-add").click()
        row = field.get_by_test_id(f"{key}-row").last
        await row.locator("input").nth(0).fill("X-Added")
        await row.locator("input").nth(1).fill(example if widget == "valueMap" and example else "1")
    elif widget == "list":
        await page.get_by_test_id(f"{key}-add").click()
        await field.get_by_test_id(f"{key}-item").last.locator("input").fill(example or "item")
    elif widget == "body":
        await field.get_by_test_id("body-mode-json").click()
        await field.get_by_test_id("json-body").fill('{"filled": true}')
    elif widget == "json":
        # An object that is also a JSON Schema: the one json field declared today (an llm step's) holds a schema.
        await field.get_by_test_id(f"json-{key}").fill('{"type": "object"}')
    elif widget == "credential":
        pass  # None is a valid choice; picking one is tested with the credentials
    elif widget == "code":
        await field.locator(".cm-content").click()
        await page.keyboard.press("Control+a")
        await page.keyboard.insert_text(example or "return payload;")
    elif widget in ("workflow", "workflows"):
        # A saved workflow to pick, saved as this browser (its session cookie); then picked by its name (an agent's
        # tools are several, picked one at a time from the same picker).
        graph = {"nodes": [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}],
                 "edges": [], "meta": {"name": f"Picked for {key}", "version": 1}}
        created = await page.request.post("/v1/workflows", data={"name": f"Picked for {key}", "graph": graph})
        assert created.status == 201, await created.text()
        await field.get_by_role("combobox").click()
        await field.get_by_test_id("workflow-option").filter(has_text=f"Picked for {key}").click()
        if widget == "workflows":
            await expect(field.get_by_test_id(f"{key}-picked")).to_contain_text(f"Picked for {key}")
    elif widget == "mcpTool":
        await field.locator("input").fill(example or "search_issues")
    elif widget == "mcpServers":
        await page.get_by_test_id(f"{key}-add").click()
        await field.get_by_test_id(f"{key}-row").last.locator("input").fill("https://mcp.example.com/mcp")
    else:
        raise AssertionError(f"the test does not know how to fill a {widget!r} widget")


async def expect_form(inspector: Locator, info: dict[str, Any]) -> None:
    for key, ui in info["ui"]["fields"].items():
        await expect(inspector.get_by_test_id(f"field-{key}")).to_contain_text(ui["label"])


async def test_every_node_type_is_added_from_the_palette_and_filled_in(page: Page, builder_stack: Stack) -> None:
    inspector = page.get_by_test_id("inspector")
    previous = "start"
    for info in await node_types(builder_stack):
        palette = page.get_by_test_id(f"palette-{info['type']}")
        await expect(palette).to_contain_text(info["title"])
        if info["kind"] == "trigger":
            await expect(palette).to_be_disabled()  # the canvas starts with it
            continue
        await page.get_by_test_id(f"node-{previous}").click()
        await palette.click()
        node_id = f"{info['ui']['idPrefix']}_1"
        await expect(page.get_by_test_id(f"node-{node_id}")).to_contain_text(info["ui"]["defaultLabel"])
        await expect(inspector).to_contain_text(info["title"])
        await expect_form(inspector, info)
        fields = sorted(info["ui"]["fields"].items(), key=lambda item: item[1]["order"])
        for key, ui in fields:
            await fill(page, key, ui, info["configSchema"]["properties"].get(key, {}))
        await expect(inspector.locator(".field__error")).to_have_count(0)
        if info["ui"]["errorHandling"]:
            await expect(inspector.get_by_test_id("error-handling")).to_be_visible()
        previous = node_id

    # Each one was added after the one before (a branching node on its first output): the server agrees it runs.
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await expect(inspector.get_by_test_id("checks-ok")).to_have_text("Ready to run.")
    await expect(page.get_by_test_id("run-button")).to_be_enabled()


class TicketConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=80)
    priority: Literal["low", "normal", "urgent"] = "normal"
    estimateHours: int | None = Field(default=None, ge=1, le=40)
    labels: list[str] = Field(default_factory=list, max_length=5)
    notifyOwner: bool = False


TICKET = NodeType(
    type="ticket", kind="action", title="Open a ticket", description="File a ticket in the tracker (test only)",
    config=TicketConfig,  # type: ignore[arg-type]  # any pydantic model will do for the builder
    templated={"title": "text"}, order=99,
    ui=NodeUi(
        glyph="T", accent="#be185d", defaultLabel="Ticket", summary="{priority}: {title}", idPrefix="ticket",
        errorHandling=True, defaults={"title": "", "priority": "normal"},
        fields={
            "title": FieldUi(widget="text", label="Title", order=0, templated=True, placeholder="Order {{ inputs.id }} is late"),
            "priority": FieldUi(widget="select", label="Priority", order=1),
            "estimateHours": FieldUi(widget="number", label="Estimate (hours)", order=2),
            "labels": FieldUi(widget="list", label="Labels", order=3, placeholder="ops"),
            "notifyOwner": FieldUi(widget="switch", label="Notify the owner", order=4, help="Mail whoever owns the queue"),
        },
    ),
)


@pytest.fixture
def ticket_type() -> Iterator[NodeType]:
    """A node type registered in Python only, before the gateway starts; gone again after the test."""
    REGISTRY.register(TICKET)
    yield TICKET
    REGISTRY.unregister(TICKET.type)


async def test_a_type_registered_only_in_python_gets_a_palette_entry_and_a_form(
    ticket_type: NodeType, page: Page, builder_stack: Stack
) -> None:
    await expect(page.get_by_test_id("palette-ticket")).to_contain_text("Open a ticket")
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-ticket").click()
    node = page.get_by_test_id("node-ticket_1")
    await expect(node).to_contain_text("Ticket")
    await expect(node).to_contain_text("normal")

    inspector = page.get_by_test_id("inspector")
    await expect(inspector).to_contain_text("File a ticket in the tracker (test only)")
    # A type the build did not see has no precompiled validator, and the content policy forbids compiling one in
    # the browser (no eval): its fields are checked by the server's validation, beside the field all the same.
    await expect(page.get_by_test_id("field-title-error")).to_have_text("Title: String should have at least 1 character")
    await expect(page.get_by_test_id("run-blocked-reason")).to_contain_text("Title")
    await page.get_by_test_id("field-title").locator("input").fill("Order {{ inputs.id")
    await expect(page.get_by_test_id("field-title-error")).to_have_text("A {{ variable is not closed with }}")
    await page.get_by_test_id("field-title").locator("input").fill("Order {{ inputs.id }} is late")
    await expect(page.get_by_test_id("field-priority").locator("option")).to_have_text(["low", "normal", "urgent"])
    await page.get_by_test_id("field-priority").locator("select").select_option("urgent")
    estimate = page.get_by_test_id("field-estimateHours")
    await expect(estimate).to_contain_text("Between 1 and 40. Empty uses the default.")
    await estimate.locator("input").fill("99")
    await expect(page.get_by_test_id("field-estimateHours-error")).to_contain_text("40")
    await estimate.locator("input").fill("8")
    await page.get_by_test_id("labels-add").click()
    await page.get_by_label("Labels 1").fill("ops")
    await page.get_by_test_id("field-notifyOwner").get_by_role("switch").click()
    await expect(inspector.get_by_test_id("error-handling")).to_be_visible()
    await expect(node).to_contain_text("urgent: Order {{ inputs.id }} is late")
    await expect(inspector.locator(".field__error")).to_have_count(0)

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    exported = json.loads(Path(await (await download_info.value).path()).read_text())
    config = next(n for n in exported["nodes"] if n["id"] == "ticket_1")["data"]["config"]
    assert config == {"title": "Order {{ inputs.id }} is late", "priority": "urgent", "estimateHours": 8, "labels": ["ops"], "notifyOwner": True}
    # The server validates it with the same model: ready to run (no worker runs it; that is not the builder's part).
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await expect(inspector.get_by_test_id("checks-ok")).to_be_visible()
