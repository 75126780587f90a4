"""A credential's fence in the builder: the Notion template suggests its API's host when it offers to add the
credential, the list is edited beside the value (add, remove, a bad entry named by the server), shown in the panel,
kept by the server, and a run that would send the credential elsewhere fails before connecting."""

from __future__ import annotations

import json
import secrets

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import api, expect_toast, local_storage


async def test_the_builder_edits_and_shows_a_credentials_allowed_hosts(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    canary = f"secret_canary_{secrets.token_hex(16)}"
    mock_here = f"127.0.0.1:{mock_http.port}"
    mock_http.reply("/v1/pages", Reply(200, {"object": "page"}))
    await page.get_by_test_id("templates-button").click()
    await page.get_by_test_id("template-item-notion-automation").click()
    await expect_toast(page, "Loaded Notion Database Entry")
    await page.get_by_test_id("node-create-page").click()
    await page.get_by_test_id("field-url").locator("input").fill(mock_http.url("/v1/pages"))

    # Offered from the step: the template's fence is suggested.
    await page.get_by_test_id("credential-add-missing").click()
    form = page.get_by_test_id("credential-form")
    hosts = form.get_by_test_id("credential-host")
    await expect(hosts).to_have_text(["api.notion.com"])
    await form.get_by_test_id("credential-value").fill(canary)
    host_input = form.get_by_test_id("credential-host-input")
    await host_input.fill("*.com")
    await host_input.press("Enter")  # adds the entry; it does not submit the form
    await expect(hosts).to_have_text(["api.notion.com", "*.com"])
    await form.get_by_test_id("credential-save").click()
    await expect(form.get_by_test_id("credential-hosts-error")).to_contain_text(
        "'*.com' would match every name under a top-level domain")
    await hosts.filter(has_text="*.com").get_by_test_id("credential-host-remove").click()
    await host_input.fill(mock_here)
    await form.get_by_test_id("credential-host-add").click()
    await expect(hosts).to_have_text(["api.notion.com", mock_here])
    await form.get_by_test_id("credential-save").click()
    await expect_toast(page, "Added credential “notionToken”")

    row = page.get_by_test_id("credential-row-notionToken")
    await expect(row.get_by_test_id("credential-allowed-hosts")).to_have_text(
        f"Only sent to api.notion.com, {mock_here}")
    status, listed = await api(builder_stack, "GET", "/v1/credentials")
    assert status == 200 and [c["allowedHosts"] for c in listed] == [["api.notion.com", mock_here]]

    # Replace: the list is there to edit beside the new value; the mock's host goes.
    await row.get_by_test_id("credential-replace").click()
    await expect(row.get_by_test_id("credential-host")).to_have_text(["api.notion.com", mock_here])
    await row.get_by_test_id("credential-host").filter(has_text=mock_here).get_by_test_id("credential-host-remove").click()
    await row.get_by_test_id("credential-replace-value").fill(canary + "-2")
    await row.get_by_test_id("credential-replace-save").click()
    await expect_toast(page, "Replaced the value of “notionToken”")
    await expect(row.get_by_test_id("credential-allowed-hosts")).to_have_text("Only sent to api.notion.com")
    status, listed = await api(builder_stack, "GET", "/v1/credentials")
    assert [c["allowedHosts"] for c in listed] == [["api.notion.com"]]
    await page.get_by_test_id("credentials-button").click()

    # The step sends it to the mock, which the fence no longer names: the run fails before connecting.
    await page.get_by_test_id("run-button").click()
    inputs = page.get_by_test_id("run-inputs")
    await inputs.get_by_test_id("run-input-databaseId").locator("input").fill("db-1")
    await inputs.get_by_test_id("run-input-title").locator("input").fill("Fenced")
    await inputs.get_by_test_id("run-inputs-submit").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
    await expect(page.get_by_test_id("run-panel")).to_contain_text(
        f"credential 'notionToken' may only be sent to api.notion.com; this request goes to {mock_here}")
    assert mock_http.requests_to("/v1/pages") == []

    seen = [await local_storage(page), await page.content(), json.dumps(listed)]
    assert not [text[:200] for text in seen if canary in text]
