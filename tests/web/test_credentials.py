"""Credentials in the builder: the panel (add, replace, delete; masked, never echoed), the step's credential
picker, "Insert variable", the run inputs form, and the Notion template end to end without leaking the secret."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.web.builder import (
    add_credential,
    chain,
    expect_toast,
    import_json,
    load_graph,
    local_storage,
)


def masked(value: str) -> str:
    return f"••••{value[-4:]}" if len(value) >= 16 else "••••••••"


async def api_get(stack: Stack, path: str) -> tuple[int, str]:
    assert stack.http is not None
    async with stack.http.get(f"{stack.base_url}{path}") as response:
        return response.status, await response.text()


async def test_add_replace_and_delete_a_credential(page: Page, builder_stack: Stack) -> None:
    secret = f"sk_live_{secrets.token_hex(12)}"
    await page.get_by_test_id("credentials-button").click()
    drawer = page.get_by_test_id("credentials-drawer")
    await expect(drawer.get_by_test_id("credentials-empty")).to_be_visible()

    await drawer.get_by_test_id("credential-add").click()
    form = drawer.get_by_test_id("credential-form")
    await form.get_by_test_id("credential-save").click()
    await expect(form.get_by_test_id("credential-name-error")).to_have_text("Give the credential a name")
    await expect(form.get_by_test_id("credential-value-error")).to_have_text("Enter the secret value")
    await form.get_by_test_id("credential-name").fill("stripe live")
    value = form.get_by_test_id("credential-value")
    await value.fill(secret)
    await expect(value).to_have_attribute("type", "password")
    await form.get_by_test_id("credential-value-reveal").click()
    await expect(value).to_have_attribute("type", "text")
    await form.get_by_test_id("credential-value-reveal").click()
    await expect(value).to_have_attribute("type", "password")
    await form.get_by_test_id("credential-save").click()
    await expect(form.get_by_test_id("credential-name-error")).to_contain_text("no spaces")

    await form.get_by_test_id("credential-name").fill("stripe_live")
    await form.get_by_test_id("credential-description").fill("Stripe live key")
    await form.get_by_test_id("credential-save").click()
    await expect_toast(page, "Added credential “stripe_live”")
    row = drawer.get_by_test_id("credential-row-stripe_live")
    await expect(row.get_by_test_id("credential-masked")).to_have_text(masked(secret))
    await expect(row).to_contain_text("Stripe live key")
    await expect(row).to_contain_text("Updated just now")
    await expect(form).to_have_count(0)

    # A name taken meanwhile (another tab, the API) is refused by the server with 409, shown on the name field.
    assert builder_stack.http is not None
    async with builder_stack.http.post(
        f"{builder_stack.base_url}/v1/credentials", json={"name": "taken", "value": "elsewhere-value-1"}
    ) as response:
        assert response.status == 201, await response.text()
    await add_attempt(page, "taken", "another-value-123")
    await expect(form.get_by_test_id("credential-name-error")).to_contain_text("already exists")
    await form.get_by_test_id("credential-cancel").click()

    replacement = f"rk_live_{secrets.token_hex(12)}"
    await row.get_by_test_id("credential-replace").click()
    await row.get_by_test_id("credential-replace-save").click()
    await expect(row.get_by_test_id("credential-replace-value-error")).to_have_text("Enter the new secret value")
    await row.get_by_test_id("credential-replace-value").fill(replacement)
    await expect(row.get_by_test_id("credential-replace-value")).to_have_attribute("type", "password")
    await row.get_by_test_id("credential-replace-save").click()
    await expect_toast(page, "Replaced the value of “stripe_live”")
    await expect(row.get_by_test_id("credential-masked")).to_have_text(masked(replacement))
    await expect(row.get_by_test_id("credential-replace-value")).to_have_count(0)
    await expect(row).to_contain_text("Stripe live key")

    await row.get_by_test_id("credential-delete").click()
    await expect(page.get_by_test_id("confirm-delete-credential")).to_contain_text("Delete “stripe_live”?")
    await page.get_by_test_id("confirm-cancel").click()
    await expect(row).to_be_visible()
    await row.get_by_test_id("credential-delete").click()
    await page.get_by_test_id("confirm-ok").click()
    await expect_toast(page, "Deleted credential “stripe_live”")
    await expect(row).to_have_count(0)

    status, listed = await api_get(builder_stack, "/v1/credentials")
    assert status == 200 and [c["name"] for c in json.loads(listed)] == ["taken"]
    for text in (await page.content(), await local_storage(page), listed):
        assert secret not in text and replacement not in text

    await page.keyboard.press("Escape")
    await expect(drawer).to_have_count(0)


async def add_attempt(page: Page, name: str, value: str) -> None:
    drawer = page.get_by_test_id("credentials-drawer")
    await drawer.get_by_test_id("credential-add").click()
    form = drawer.get_by_test_id("credential-form")
    await form.get_by_test_id("credential-name").fill(name)
    await form.get_by_test_id("credential-value").fill(value)
    await form.get_by_test_id("credential-save").click()


async def test_picker_lists_stored_credentials_and_warns_about_unknown_names(page: Page) -> None:
    await add_credential(page, "slack.webhook", "https://hooks.slack.example/T000/B000/XXXX")
    await page.get_by_test_id("credentials-button").click()
    graph = chain(("notify", "https://example.com/hook"), name="Picker")
    graph["nodes"][1]["data"]["config"]["auth"] = {"credentialName": "missingOne"}
    await import_json(page, graph)
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Picker")
    # A credential that does not exist blocks Run, and says how to add it.
    await expect(page.get_by_test_id("run-button")).to_be_disabled()
    await expect(page.get_by_test_id("run-blocked-reason")).to_contain_text("Credential “missingOne” does not exist")
    await expect(page.get_by_test_id("run-blocked-add-credential")).to_be_visible()
    await page.get_by_test_id("node-notify").click()

    picker = page.get_by_test_id("credential-picker")
    await expect(picker).to_have_value("missingOne")
    await expect(page.get_by_test_id("credential-missing")).to_contain_text("“missingOne” is not defined")
    await expect(picker.locator("option")).to_have_text(["None", "missingOne (not defined)", "slack.webhook"])

    # "Add it" opens the panel with the name filled in and the cursor on the value.
    await page.get_by_test_id("credential-add-missing").click()
    form = page.get_by_test_id("credential-form")
    await expect(form.get_by_test_id("credential-name")).to_have_value("missingOne")
    await expect(form.get_by_test_id("credential-value")).to_be_focused()
    await page.keyboard.type("typed-into-the-focused-field")
    await page.keyboard.press("Enter")
    await expect_toast(page, "Added credential “missingOne”")
    await expect(page.get_by_test_id("credential-missing")).to_have_count(0)
    await expect(picker.locator("option")).to_have_text(["None", "missingOne", "slack.webhook"])
    await expect(page.get_by_test_id("run-button")).to_be_enabled()
    await expect(page.get_by_test_id("credential-row-missingOne").get_by_text("In use")).to_be_visible()
    await page.get_by_test_id("credentials-button").click()

    await picker.select_option("slack.webhook")
    await expect(picker).to_have_value("slack.webhook")
    await picker.select_option("")
    await expect(picker).to_have_value("")


async def test_insert_variable_puts_templates_at_the_cursor(page: Page) -> None:
    await add_credential(page, "apiKey", "k_0123456789abcdef")
    await page.get_by_test_id("credentials-button").click()
    graph = chain(("first", "https://example.com/a"), ("second", "https://example.com/b"), name="Variables")
    graph["nodes"][1]["data"]["config"]["url"] = "https://example.com/{{payload.team}}"
    await load_graph(page, graph)
    await page.get_by_test_id("node-second").click()

    url = page.get_by_test_id("field-url").locator("input")
    await url.click()
    await url.press("End")
    await url.press("ArrowLeft")  # between "/b" and nothing: before the "b"
    await page.get_by_test_id("insert-url").click()
    menu = page.get_by_test_id("variable-menu")
    await expect(menu.get_by_test_id("variable-option")).to_have_text(
        [
            re.compile(r"^\{\{payload\.team\}\}"),
            # Before any run: the fields the HTTP node type declares it outputs, with what they mean.
            re.compile(r"^\{\{steps\.first\.output\.status\}\}.*HTTP status"),
            re.compile(r"^\{\{steps\.first\.output\.headers\}\}"),
            re.compile(r"^\{\{steps\.first\.output\.body\}\}"),
            re.compile(r"^\{\{steps\.first\.output\}\}"),
            re.compile(r"^\{\{steps\.first\.output\.\}\}"),
            re.compile(r"^\{\{getCredential\('apiKey'\)\}\}"),
        ]
    )
    await menu.get_by_test_id("variable-option").filter(has_text="steps.first.output.}}").click()
    await expect(url).to_be_focused()
    await page.keyboard.type("status")  # the caret waits inside, after the dot
    await expect(url).to_have_value("https://example.com/{{steps.first.output.status}}b")
    await expect(page.get_by_test_id("run-button")).to_be_enabled()

    await page.get_by_test_id("headers-add").click()
    await page.get_by_label("Headers 1 name").fill("Authorization")
    await page.get_by_label("Headers 1 value").fill("Bearer ")
    await page.get_by_test_id("insert-headers-value").click()
    await page.get_by_test_id("variable-option").filter(has_text="getCredential").click()
    await expect(page.get_by_label("Headers 1 value")).to_have_value("Bearer {{getCredential('apiKey')}}")

    await page.get_by_test_id("body-mode-json").click()
    body = page.get_by_test_id("json-body")
    await body.fill('{"team": }')
    await body.press("End")
    await body.press("ArrowLeft")
    await page.get_by_test_id("insert-json_body").click()
    await page.get_by_test_id("variable-option").filter(has_text="payload.team").click()
    await expect(body).to_have_value('{"team": "{{payload.team}}"}')
    await expect(page.get_by_test_id("field-json_body-error")).to_have_count(0)

    await url.fill("https://example.com/{{ unclosed")
    await expect(page.get_by_test_id("field-url-error")).to_have_text("A {{ variable is not closed with }}")


async def test_notion_template_end_to_end_never_leaks_the_secret(
    page: Page, builder_stack: Stack, mock_http: MockHttp
) -> None:
    canary = f"secret_canary_{secrets.token_hex(16)}"
    mock_http.reply("/v1/pages", Reply(200, {"object": "page", "id": "page-1"}))
    await add_credential(page, "notionToken", canary, "Notion integration")
    await page.get_by_test_id("credentials-button").click()

    await page.get_by_test_id("templates-button").click()
    await page.get_by_test_id("template-item-notion-automation").click()
    await expect_toast(page, "Loaded Notion Database Entry")
    await page.get_by_test_id("node-create-page").click()
    await expect(page.get_by_test_id("credential-picker")).to_have_value("notionToken")
    await expect(page.get_by_test_id("credential-missing")).to_have_count(0)
    await page.get_by_test_id("field-url").locator("input").fill(mock_http.url("/v1/pages"))

    await page.get_by_test_id("run-button").click()
    form = page.get_by_test_id("run-inputs")
    await expect(form.locator("code")).to_have_text(["databaseId", "title"])
    await page.keyboard.press("Escape")
    await expect(form).to_have_count(0)
    assert mock_http.requests_to("/v1/pages") == []

    database_id = "8f2c1a5e-database-id"
    title = "Launch plan “Q3” — draft"
    await page.get_by_test_id("run-button").click()
    await form.get_by_test_id("run-input-databaseId").locator("input").fill(database_id)
    await form.get_by_test_id("run-input-title").locator("input").fill(title)
    await form.get_by_test_id("run-inputs-submit").click()
    await expect(form).to_have_count(0)
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    await expect(page.get_by_test_id("badge-create-page")).to_have_attribute("data-status", "succeeded")

    [request] = mock_http.requests_to("/v1/pages")
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["authorization"] == f"Bearer {canary}"
    assert headers["notion-version"] == "2022-06-28"
    body: dict[str, Any] = request.json()
    assert body["parent"]["database_id"] == database_id
    assert body["properties"]["title"]["title"][0]["text"]["content"] == title

    # The form remembers what was typed (in memory) for the next run.
    await page.get_by_test_id("run-button").click()
    await expect(form.get_by_test_id("run-input-databaseId").locator("input")).to_have_value(database_id)
    await form.get_by_test_id("run-inputs-cancel").click()

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    exported = Path(await (await download_info.value).path()).read_text()
    assert json.loads(exported)["nodes"][1]["data"]["config"]["auth"] == {"credentialName": "notionToken"}

    status, runs = await api_get(builder_stack, "/v1/runs?limit=5")
    assert status == 200
    [run] = json.loads(runs)["runs"]
    status, run_record = await api_get(builder_stack, f"/v1/runs/{run['id']}")
    assert status == 200
    status, credentials = await api_get(builder_stack, "/v1/credentials")
    assert status == 200 and [c["name"] for c in json.loads(credentials)] == ["notionToken"]
    run_panel = await page.get_by_test_id("run-panel").inner_text()
    assert "→ HTTP 200" in run_panel

    places = {
        "localStorage": await local_storage(page),
        "export": exported,
        "run panel": run_panel,
        "page": await page.content(),
        "GET /v1/credentials": credentials,
        "GET /v1/runs/{id}": run_record,
    }
    leaks = [where for where, text in places.items() if canary in text or canary[7:] in text]
    assert not leaks, f"the secret appears in: {leaks}"
