"""The step form: generated fields, inline errors, and Run blocked until the graph is valid."""

from __future__ import annotations

from playwright.async_api import Page, expect


async def test_inline_errors_block_run_until_fixed(page: Page) -> None:
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-http").click()
    run = page.get_by_test_id("run-button")
    reason = page.get_by_test_id("run-blocked-reason")
    await expect(run).to_be_disabled()
    await expect(reason).to_contain_text("URL is required")

    url = page.get_by_test_id("field-url").locator("input")
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
    await expect(page.get_by_test_id("field-timeoutMs-error")).to_contain_text("between 1 and 300,000")
    await page.get_by_test_id("field-timeoutMs").locator("input").fill("5000")

    await page.get_by_test_id("headers-add").click()
    await page.get_by_label("Headers 1 value").fill("application/json")
    await expect(page.get_by_test_id("field-headers-error")).to_have_text("Every header needs a name")
    await page.get_by_label("Headers 1 name").fill("Content-Type")

    await page.get_by_test_id("field-label").locator("input").fill("Notify team")
    await expect(page.get_by_test_id("node-http-1")).to_contain_text("Notify team")
    await expect(reason).to_have_count(0)
    await expect(run).to_be_enabled()
