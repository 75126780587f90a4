"""The AI Model and MCP Tool forms, drawn from their declarations: filled in, a credential picked from the store
into the plain `credentialName` field, and what the builder exports. With SCREENSHOTS_DIR set, each form is saved
there to be looked at."""

from __future__ import annotations

import json
import os
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.mcp_server import McpTestServer
from tests.support.stack import Stack
from tests.web.builder import api


async def shot(page: Page, name: str) -> None:
    if shots := os.environ.get("SCREENSHOTS_DIR"):
        await page.screenshot(path=f"{shots}/{name}.png")


async def exported_config(page: Page, node_id: str) -> dict[str, object]:
    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    exported = json.loads(Path(await (await download_info.value).path()).read_text())
    config: dict[str, object] = next(n for n in exported["nodes"] if n["id"] == node_id)["data"]["config"]
    return config


async def test_llm_form(page: Page, builder_stack: Stack) -> None:
    status, _ = await api(builder_stack, "POST", "/v1/credentials", {"name": "openai", "value": "sk-form-test-123"})
    assert status == 201
    await page.reload()
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-llm").click()
    inspector = page.get_by_test_id("inspector")
    await expect(inspector).to_contain_text("AI Model")
    await expect(page.get_by_test_id("field-baseUrl").locator("input")).to_have_value("https://api.openai.com/v1")
    await page.get_by_test_id("field-credentialName").locator("select").select_option("openai")
    await page.get_by_test_id("field-model").locator("input").fill("gpt-4o-mini")
    await page.get_by_test_id("field-system").locator("textarea").fill("Answer with one word.")
    await page.get_by_test_id("field-prompt").locator("textarea").fill("Classify: {{ payload.body.review }}")
    await page.get_by_test_id("field-responseFormat").locator("select").select_option("JSON object")
    await page.get_by_test_id("json-jsonSchema").fill('{"type": "object", "properties": {"label": {"type": "string"}}}')
    await page.get_by_test_id("field-temperature").locator("input").fill("0.2")
    await expect(inspector.locator(".field__error")).to_have_count(0)
    await expect(page.get_by_test_id("node-llm_1")).to_contain_text("gpt-4o-mini")
    await shot(page, "llm-form-bottom")
    await page.get_by_test_id("field-baseUrl").scroll_into_view_if_needed()
    await shot(page, "llm-form-top")
    assert await exported_config(page, "llm_1") == {
        "baseUrl": "https://api.openai.com/v1", "credentialName": "openai", "model": "gpt-4o-mini",
        "system": "Answer with one word.", "prompt": "Classify: {{ payload.body.review }}", "responseFormat": "json",
        "jsonSchema": {"type": "object", "properties": {"label": {"type": "string"}}}, "temperature": 0.2,
        "timeoutMs": 120000}

    # The plain field is a credential reference like HTTP's auth: one the store lacks is flagged, with a way to add it.
    await page.get_by_test_id("field-credentialName").locator("select").select_option("")
    await expect(page.get_by_test_id("credential-missing")).to_have_count(0)


async def test_mcp_tool_form(page: Page, builder_stack: Stack) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-mcp_tool").click()
    inspector = page.get_by_test_id("inspector")
    await expect(inspector).to_contain_text("MCP Tool")
    await page.get_by_test_id("field-serverUrl").locator("input").fill("https://mcp.example.com/mcp")
    await page.get_by_test_id("field-tool").locator("input").fill("search_issues")
    await page.get_by_test_id("arguments-add").click()
    row = page.get_by_test_id("field-arguments").get_by_test_id("arguments-row").last
    await row.locator("input").nth(0).fill("query")
    await row.locator("input").nth(1).fill("{{ payload.body.q }}")
    await expect(inspector.locator(".field__error")).to_have_count(0)
    await expect(page.get_by_test_id("node-mcp_1")).to_contain_text("search_issues")
    await shot(page, "mcp-tool-form")
    config = await exported_config(page, "mcp_1")
    assert config["serverUrl"] == "https://mcp.example.com/mcp" and config["tool"] == "search_issues"
    assert config["arguments"] == {"query": "{{ payload.body.q }}"}


async def test_the_mcp_tool_form_lists_the_servers_tools_to_pick_from_and_the_step_runs(
        page: Page, builder_stack: Stack, mcp_server: McpTestServer) -> None:
    status, _ = await api(builder_stack, "POST", "/v1/credentials", {"name": "mcpToken", "value": mcp_server.token})
    assert status == 201
    await page.reload()
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-mcp_tool").click()
    await expect(page.get_by_test_id("mcp-list-tools")).to_be_disabled()  # no server yet
    await page.get_by_test_id("field-serverUrl").locator("input").fill(mcp_server.url)
    await page.get_by_test_id("mcp-list-tools").click()
    await expect(page.get_by_test_id("mcp-tools-error")).to_contain_text("needs a token: choose the credential")
    await page.get_by_test_id("field-credentialName").locator("select").select_option("mcpToken")
    await page.get_by_test_id("mcp-list-tools").click()
    await expect(page.get_by_test_id("mcp-tool-add")).to_contain_text("Adds a and b")
    await shot(page, "mcp-tool-list")
    await page.get_by_test_id("mcp-tool-add").click()
    await expect(page.get_by_test_id("field-tool").locator("input")).to_have_value("add")
    rows = page.get_by_test_id("field-arguments").get_by_test_id("arguments-row")
    await expect(rows).to_have_count(2)  # one per parameter the tool declares
    await rows.nth(0).locator("input").nth(1).fill("{{ 2 }}")  # a whole {{ }} keeps its type: a number
    await rows.nth(1).locator("input").nth(1).fill("{{ 3 }}")
    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    assert mcp_server.calls == [("add", {"a": 2, "b": 3})]
