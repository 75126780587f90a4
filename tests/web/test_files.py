"""Import and export: the builder format round-trips, the template format converts, bad files change nothing (and
the Import dialog says why)."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Page, expect

from tests.support.waiting import eventually
from tests.web.builder import (
    chain,
    expect_toast,
    import_json,
    load_graph,
    local_storage,
    node_ids,
)


async def test_export_then_import_is_lossless(page: Page, tmp_path: Path) -> None:
    graph = chain(("one", "https://example.com/1"), ("two", "https://example.com/2"), name="Round trip")
    graph["nodes"][1]["data"]["config"].update(headers={"X-Trace": "typed-by-me"}, json_body={"a": [1, None]}, auth={"credentialName": "c1"})
    graph["meta"]["description"] = "kept"
    # Branch edges keep which output they leave from.
    graph["nodes"].append({"id": "check", "type": "if", "position": {"x": 840, "y": 0},
                           "data": {"label": "Check", "config": {"condition": "{{ steps.two.output.status == 200 }}"}}})
    graph["nodes"].append({"id": "after", "type": "set", "position": {"x": 1100, "y": 0},
                           "data": {"label": "After", "config": {"values": {"ok": "yes"}}}})
    graph["edges"] += [{"id": "e-two-check", "source": "two", "target": "check"},
                       {"id": "e-check-after", "source": "check", "sourceHandle": "false", "target": "after"}]
    # The credential c1 does not exist, so Run stays blocked; the file still imports and exports as it is.
    await import_json(page, graph)
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Round trip")

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    download = await download_info.value
    assert download.suggested_filename == "round-trip.automateos.json"
    exported = json.loads(Path(await download.path()).read_text())
    assert exported["meta"]["name"] == "Round trip"
    assert exported["meta"]["version"] == 1
    assert exported["meta"]["exportedAt"]
    assert exported["meta"]["description"] == "kept"
    assert exported["nodes"] == graph["nodes"]
    assert exported["edges"] == graph["edges"]

    await page.get_by_test_id("new-button").click()  # an import just exported: nothing to lose, so no question
    await expect(page.get_by_test_id("confirm-replace")).to_have_count(0)
    await expect(page.locator(".react-flow__node")).to_have_count(1)
    assert await node_ids(page) == ["start"]
    await import_json(page, exported, "round-trip.automateos.json")
    await expect(page.get_by_test_id("import-dialog")).to_have_count(0)  # the first import's toast may still show
    await expect_toast(page, "Imported Round trip")
    assert await node_ids(page) == ["after", "check", "one", "start", "two"]

    async with page.expect_download() as again_info:
        await page.get_by_test_id("export-button").click()
    again = json.loads(Path(await (await again_info.value).path()).read_text())
    assert {**again, "meta": {**again["meta"], "exportedAt": None}} == {**exported, "meta": {**exported["meta"], "exportedAt": None}}


async def test_template_format_imports_as_a_chain(page: Page) -> None:
    template = {
        "name": "From a template",
        "definition": {"steps": [
            {"type": "http_request_node", "name": "First", "config": {"url": "https://example.com/a"}},
            {"type": "http_request_node", "config": {"method": "POST", "url": "https://example.com/b", "json_body": {}}},
        ]},
    }
    await import_json(page, template)
    await expect(page.get_by_test_id("workflow-name")).to_have_value("From a template")
    # Same ids as the server gives template steps, so {{steps.step_1.output}} works.
    assert await node_ids(page) == ["start", "step_1", "step_2"]
    await expect(page.locator(".react-flow__edge")).to_have_count(2)
    await expect(page.get_by_test_id("node-step_1")).to_contain_text("First")
    await expect(page.get_by_test_id("node-step_2")).to_contain_text("Step 2")
    await expect(page.get_by_test_id("node-step_2")).to_contain_text("HTTP Request")
    start, first, second = [await page.get_by_test_id(f"node-{n}").bounding_box() for n in ("start", "step_1", "step_2")]
    assert start and first and second and start["x"] < first["x"] < second["x"]


async def test_bad_files_leave_the_canvas_alone(page: Page) -> None:
    await load_graph(page, chain(("keep", "https://example.com/keep"), name="Keep me"))
    error = page.get_by_test_id("import-error")
    await import_json(page, "{ this is not json", "broken.json")
    await expect(error).to_contain_text("broken.json: This is not JSON")

    cyclic = chain(("a", "https://example.com/a"), ("b", "https://example.com/b"))
    cyclic["edges"].append({"id": "back", "source": "b", "target": "a"})
    await import_json(page, cyclic, "cyclic.json")  # the dialog stays open: the next file is chosen in it
    await expect(error).to_contain_text("cyclic.json: The AutomateOS workflow does not validate")
    await expect(error).to_contain_text("document.nodes[1] the graph has a cycle: a → b → a")

    await import_json(page, {"hello": "world"}, "other.json")
    await expect(error).to_contain_text("other.json: The document is not a workflow that can be imported")
    await expect(error).to_contain_text("document is not a workflow this server can read; expected an n8n workflow")

    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("import-dialog")).to_have_count(0)
    assert await node_ids(page) == ["keep", "start"]
    await expect(page.get_by_test_id("workflow-name")).to_have_value("Keep me")


async def test_a_secret_typed_into_a_header_is_flagged_and_never_exported_or_saved(page: Page) -> None:
    secret = "sk_live_typed_by_hand_0123456789"
    await load_graph(page, chain(("call", "https://example.com/1"), name="Typed secret"))
    await page.locator('.react-flow__node[data-id="call"]').click()
    await page.get_by_test_id("headers-add").click()
    await page.get_by_label("Headers 1 name").fill("Authorization")
    await page.get_by_label("Headers 1 value").fill(f"Bearer {secret}")
    await expect(page.get_by_test_id("field-headers-secret-warning")).to_be_visible()

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-button").click()
    exported = Path(await (await download_info.value).path()).read_text()
    assert secret not in exported and '"Authorization": ""' in exported
    await expect_toast(page, "Exported without 1 secret header value: store secrets as credentials")

    async def saved_with_the_header() -> str | None:
        saved = await local_storage(page)
        return saved if "Authorization" in saved else None

    saved = await eventually(saved_with_the_header, what="the autosave to hold the header")
    assert secret not in saved
