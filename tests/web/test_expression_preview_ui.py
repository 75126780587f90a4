"""The value of each templated field under it, as you type (issue 20, item 3): rendered by an engine against the
sample payload and pins, then against the last run; errors in words; a credential shown as ••••."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.web.builder import add_credential, load_graph, run_to_end
from tests.web.test_pins_ui import order_router


async def test_a_fields_value_shows_under_it_against_the_sample_then_the_last_run(page: Page, mock_http: MockHttp) -> None:
    mock_http.reply("/charge", Reply(200, {"ok": True, "id": "ch_1"}))
    mock_http.reply("/big", Reply(200, {}))
    await load_graph(page, order_router(mock_http))
    await page.get_by_test_id("node-big").click()
    url = page.get_by_test_id("field-url").locator("input")
    preview = page.get_by_test_id("preview-url")

    await url.fill(mock_http.url("/big") + "?amount={{ payload.body.amount }}")
    await expect(preview).to_have_attribute("data-kind", "value")
    await expect(preview).to_contain_text(mock_http.url("/big") + "?amount=150")
    await expect(preview).to_contain_text("with the sample and pins")

    await url.fill(mock_http.url("/big") + "?amount={{ payload.body.amout }}")
    await expect(preview).to_have_attribute("data-kind", "error")
    await expect(preview).to_contain_text("'payload.body.amout' is not defined")
    await expect(preview).to_contain_text("its fields: amount")

    # A condition previews as the If decides it.
    await page.get_by_test_id("node-check").click()
    condition = page.get_by_test_id("preview-condition")
    await page.get_by_test_id("field-condition").locator("textarea").fill("payload.body.amount > 100")
    await expect(condition).to_contain_text("= true")

    # A credential is never shown: its place is masked.
    await add_credential(page, "shopToken", "sk_live_canary_5b1f2e")
    await page.keyboard.press("Escape")
    await page.get_by_test_id("node-big").click()
    await url.fill(mock_http.url("/big") + "?t={{ getCredential('shopToken') }}")
    await expect(preview).to_contain_text("?t=••••")
    assert "sk_live_canary_5b1f2e" not in await page.content()

    # After a run, against what the step saw in it.
    await url.fill(mock_http.url("/big") + "?id={{ steps.charge.output.body.id }}")
    await run_to_end(page, "succeeded")
    await page.get_by_test_id("node-big").click()
    await page.get_by_test_id("tab-config").click()
    await expect(preview).to_contain_text("?id=ch_1")
    await expect(preview).to_contain_text("in the last run")
