"""The step form: fields drawn from the node type's declaration, inline errors (the builder's schema checks
at once, the server's own checks a moment later), and Run blocked until the graph is valid."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Page, expect


async def test_inline_errors_block_run_until_fixed(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    run = page.get_by_test_id("run-button")
    reason = page.get_by_test_id("run-blocked-reason")
    await expect(run).to_be_disabled()
    await expect(reason).to_contain_text("URL is required")

    url = page.get_by_test_id("field-url").locator("input")
    # The schema cannot say which schemes a URL may use; the server's validation does, on the same field.
    await url.fill("ftp://example.com")
    await expect(page.get_by_test_id("field-url-error")).to_have_text("URL must start with http:// or https://")

    await url.fill("https://example.com/hook")
    await page.get_by_test_id("body-mode-json").click()
    body = page.get_by_test_id("json-body")
    await body.fill('{"text": "hi",')
    await expect(page.get_by_test_id("field-json_body-error")).to_contain_text("Invalid JSON")
    await expect(run).to_be_disabled()
    await body.fill('{"text": "hi"}')
    await expect(page.get_by_test_id("field-json_body-error")).to_have_count(0)

    await page.get_by_test_id("field-timeoutMs").locator("input").fill("999999")
    await expect(page.get_by_test_id("field-timeoutMs-error")).to_have_text("Timeout (ms) must be between 1 and 300,000")
    await page.get_by_test_id("field-timeoutMs").locator("input").fill("5000")

    await page.get_by_test_id("headers-add").click()
    await page.get_by_label("Headers 1 value").fill("application/json")
    await expect(page.get_by_test_id("field-headers-error")).to_have_text("Every header needs a name")
    await page.get_by_label("Headers 1 name").fill("Content-Type")

    await page.get_by_test_id("field-label").locator("input").fill("Notify team")
    await expect(page.get_by_test_id("node-http_1")).to_contain_text("Notify team")
    await expect(reason).to_have_count(0)
    await expect(run).to_be_enabled()


async def test_ready_to_run_only_once_the_server_agrees(page: Page) -> None:
    checks = page.get_by_test_id("inspector")
    await expect(checks.get_by_test_id("issue-list")).to_contain_text("Add a step after Start")
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/{{ inputs.path }}")
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await expect(checks.get_by_test_id("checks-ok")).to_have_text("Ready to run.")

    # A header name only the server refuses: never "Ready" while it has not answered, then its reason.
    await page.get_by_test_id("node-http_1").click()
    await page.get_by_test_id("headers-add").click()
    await page.get_by_label("Headers 1 name").fill("Bad:Name")
    await page.get_by_label("Headers 1 value").fill("x")
    await page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    await expect(checks.get_by_test_id("checks-ok")).to_have_count(0)
    await expect(checks.get_by_test_id("issue-list")).to_contain_text("invalid header name")
    await expect(page.get_by_test_id("run-button")).to_be_disabled()


async def test_error_handling_is_written_to_the_node_settings(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    await page.get_by_test_id("field-url").locator("input").fill("https://example.com/hook")
    section = page.get_by_test_id("error-handling")
    await section.get_by_test_id("error-handling-toggle").click()
    attempts = section.get_by_test_id("setting-retry.maxAttempts").locator("input")
    await expect(attempts).to_have_attribute("placeholder", "1")
    await attempts.fill("11")
    await expect(section.get_by_test_id("setting-retry.maxAttempts-error")).to_have_text("Attempts must be between 1 and 10")
    await expect(page.get_by_test_id("run-button")).to_be_disabled()
    await attempts.fill("3")
    await section.get_by_test_id("setting-retry.initialIntervalMs").locator("input").fill("250")
    await section.get_by_test_id("setting-onError-continue").click()
    await expect(section.get_by_test_id("error-handling-toggle")).to_contain_text("Attempts: 3")

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    exported = json.loads(Path(await (await download_info.value).path()).read_text())
    node = next(n for n in exported["nodes"] if n["id"] == "http_1")
    assert node["data"]["settings"] == {"retry": {"maxAttempts": 3, "initialIntervalMs": 250}, "onError": "continue"}
    await expect(page.get_by_test_id("run-button")).to_be_enabled()
