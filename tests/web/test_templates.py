"""The Templates menu lists the server's examples and loads one onto the canvas."""

from __future__ import annotations

import json
import os
from pathlib import Path

from playwright.async_api import Page, expect

from automateos.settings import REPO_ROOT
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack
from tests.web.builder import expect_toast


async def test_templates_menu_loads_each_example(page: Page) -> None:
    examples = sorted((REPO_ROOT / "examples").glob("*.json"))
    assert examples
    for path in examples:
        document = json.loads(path.read_text())
        name = document.get("name") or document["meta"]["name"]
        await page.get_by_test_id("templates-button").click()
        await expect(page.locator('[data-testid^="template-item-"]')).to_have_count(len(examples))
        await page.get_by_test_id(f"template-item-{path.stem}").click()
        await expect_toast(page, f"Loaded {name}")
        await expect(page.get_by_test_id("workflow-name")).to_have_value(name)
        await expect(page.get_by_test_id("run-button")).to_be_enabled()
        await expect(page.get_by_test_id("templates-menu")).to_have_count(0)


async def test_each_template_runs_against_the_mock_and_the_screenshot_is_taken(
    page: Page, builder_stack: Stack, mock_http: MockHttp, tmp_path: Path
) -> None:
    """What a new user does: pick a template, point it at a URL, click Run, watch it succeed."""
    # The Notion template needs its credential and asks for two run inputs (tests/web/test_credentials.py).
    assert builder_stack.http is not None
    async with builder_stack.http.post(
        f"{builder_stack.base_url}/v1/credentials", json={"name": "notionToken", "value": "secret_for_templates_test"}
    ) as response:
        assert response.status == 201, await response.text()
    for path in sorted((REPO_ROOT / "examples").glob("*.json"), key=lambda p: p.stem != "slack-notification", reverse=True):
        await page.get_by_test_id("templates-button").click()
        await page.get_by_test_id(f"template-item-{path.stem}").click()
        http_node = page.locator('.react-flow__node[data-id]:not([data-id="start"])')
        await expect(http_node).to_have_count(1)
        await http_node.click()
        url = page.get_by_test_id("field-url").locator("input")
        await url.fill(mock_http.url(f"/{path.stem}"))
        await expect(page.get_by_test_id("run-button")).to_be_enabled()
        await page.get_by_test_id("run-button").click()
        if path.stem == "notion-automation":
            await page.get_by_test_id("run-input-databaseId").locator("input").fill("db-1")
            await page.get_by_test_id("run-input-payload.title").locator("input").fill("Hello")
            await page.get_by_test_id("run-inputs-submit").click()
        await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
        node_id = await http_node.get_attribute("data-id")
        await expect(page.get_by_test_id(f"badge-{node_id}")).to_have_attribute("data-status", "succeeded")
        await expect(page.get_by_test_id("log-row").filter(has_text="→ HTTP 204")).to_have_count(1)
        assert len(mock_http.requests_to(f"/{path.stem}")) == 1
    # The last one run is the Slack template: that is the picture the README shows.
    target = REPO_ROOT / "docs" / "builder.png" if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "builder.png"
    await page.screenshot(path=str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
