"""Deleting a credential that saved workflows use (issue 16, item 6): the builder names them and deletes only when told
to, through the server's 409 `in_use` and `?force=true`."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.stack import Stack
from tests.web.builder import add_credential, api, load_graph


def using(credential: str, name: str, trigger: str = "start") -> dict[str, Any]:
    start: dict[str, Any] = {"id": "start", "type": trigger, "position": {"x": 0, "y": 0}, "data": {"label": "Trigger"}}
    if trigger == "webhook":
        start["data"]["config"] = {"verify": {"kind": "none"}}
    return {
        "meta": {"name": name, "version": 1},
        "nodes": [
            start,
            {"id": "call", "type": "http", "position": {"x": 280, "y": 0},
             "data": {"label": "Call", "config": {"method": "GET", "url": "http://127.0.0.1:9/never",
                                                  "auth": {"credentialName": credential}}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "call"}],
    }


async def test_deleting_a_credential_names_the_saved_workflows_that_use_it(page: Page, builder_stack: Stack) -> None:
    status, live = await api(builder_stack, "POST", "/v1/workflows", {"name": "Live hook", "graph": using("stripe", "Live hook", "webhook")})
    assert status == 201, live
    status, _ = await api(builder_stack, "POST", f"/v1/workflows/{live['id']}/activate", {"version": 1})
    assert status == 200
    status, idle = await api(builder_stack, "POST", "/v1/workflows", {"name": "Monthly report", "graph": using("stripe", "Monthly report")})
    assert status == 201, idle
    await add_credential(page, "stripe", "sk_test_0123456789")
    await page.keyboard.press("Escape")
    await load_graph(page, using("stripe", "On the canvas"))  # unsaved, and it uses it too
    await page.get_by_test_id("credentials-button").click()

    row = page.get_by_test_id("credential-row-stripe")
    await row.get_by_test_id("credential-delete").click()
    await page.get_by_test_id("confirm-delete-credential").get_by_test_id("confirm-ok").click()
    dialog = page.get_by_test_id("confirm-credential-in-use")
    await expect(dialog).to_contain_text("“stripe” is in use")
    await expect(dialog).to_contain_text("These 2 saved workflows use it, and so does the one on the canvas")
    await expect(dialog.get_by_test_id(f"credential-user-{live['id']}")).to_contain_text("Live hook")
    await expect(dialog.get_by_test_id(f"credential-user-{live['id']}")).to_contain_text("live")
    await expect(dialog.get_by_test_id(f"credential-user-{idle['id']}")).to_have_text("Monthly report")
    await expect(dialog.get_by_test_id("confirm-ok")).to_have_text("Delete anyway")

    await dialog.get_by_test_id("confirm-cancel").click()
    await expect(row).to_be_visible()
    _, listed = await api(builder_stack, "GET", "/v1/credentials")
    assert [c["name"] for c in listed] == ["stripe"], "refused, and cancelled: still there"

    await row.get_by_test_id("credential-delete").click()
    await page.get_by_test_id("confirm-delete-credential").get_by_test_id("confirm-ok").click()
    await page.get_by_test_id("confirm-credential-in-use").get_by_test_id("confirm-ok").click()
    await expect(row).to_have_count(0)
    _, listed = await api(builder_stack, "GET", "/v1/credentials")
    assert listed == []


async def test_a_credential_nothing_saved_uses_goes_at_the_first_confirm(page: Page, builder_stack: Stack) -> None:
    await add_credential(page, "spare", "sk_test_0123456789")
    await page.get_by_test_id("credential-row-spare").get_by_test_id("credential-delete").click()
    await page.get_by_test_id("confirm-delete-credential").get_by_test_id("confirm-ok").click()
    await expect(page.get_by_test_id("credential-row-spare")).to_have_count(0)
    await expect(page.get_by_test_id("confirm-credential-in-use")).to_have_count(0)
