"""What a person does in the builder, as steps a browser test can take."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.support.stack import Stack

try:
    from playwright.async_api import Page, expect
except ImportError:
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("Playwright is not installed: `pip install playwright` (never `playwright install`)", allow_module_level=True)


def chain(*steps: tuple[str, str], name: str = "Browser test", method: str = "GET") -> dict[str, Any]:
    """Builder-format graph: Start → steps[0] → steps[1] …, each step (node id, URL)."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}}]
    edges = []
    previous = "start"
    for index, (node_id, url) in enumerate(steps, start=1):
        nodes.append({
            "id": node_id,
            "type": "http",
            "position": {"x": 280 * index, "y": 0},
            "data": {"label": f"Call {node_id}", "config": {"method": method, "url": url, "timeoutMs": 10000}},
        })
        edges.append({"id": f"e-{previous}-{node_id}", "source": previous, "target": node_id})
        previous = node_id
    return {"nodes": nodes, "edges": edges, "meta": {"name": name, "version": 1}}


async def import_json(page: Page, document: Any, file_name: str = "workflow.json") -> None:
    """Import → choose a file. An AutomateOS file loads at once; anything else leaves the dialog open, showing its
    report or why it cannot be imported."""
    text = document if isinstance(document, str) else json.dumps(document)
    if not await page.get_by_test_id("import-dialog").is_visible():
        await page.get_by_test_id("import-button").click()
    await page.get_by_test_id("import-input").set_input_files(
        {"name": file_name, "mimeType": "application/json", "buffer": text.encode()}
    )


async def load_graph(page: Page, graph: dict[str, Any]) -> None:
    await import_json(page, graph)
    # The dialog closes when the server has answered and the canvas is replaced: only then is the name the new one's
    # (the one before may have had the same name).
    await expect(page.get_by_test_id("import-dialog")).to_have_count(0)
    await expect(page.get_by_test_id("workflow-name")).to_have_value(graph["meta"]["name"])
    await expect(page.get_by_test_id("run-button")).to_be_enabled()
    await canvas_settled(page)


# Resolves once the canvas's pan and zoom have not moved for 300 ms (at most 5 s): an import or a template fits the
# view with an animation, and on a loaded machine a click can pass Playwright's stability check between two slow
# frames and land where a step used to be.
_SETTLED = """() => new Promise(resolve => {
  const viewport = document.querySelector('.react-flow__viewport');
  let last = viewport?.style.transform, still = performance.now();
  const started = still;
  const tick = () => {
    const now = performance.now(), current = viewport?.style.transform;
    if (current !== last) { last = current; still = now; }
    if (now - still >= 300 || now - started >= 5000) resolve(true); else setTimeout(tick, 50);
  };
  tick();
})"""


async def canvas_settled(page: Page) -> None:
    await page.evaluate(_SETTLED)


async def expect_toast(page: Page, text: str | re.Pattern[str]) -> None:
    await expect(page.get_by_test_id("toast").filter(has_text=text)).to_have_count(1)


async def node_ids(page: Page) -> list[str]:
    return sorted(await page.locator(".react-flow__node").evaluate_all("nodes => nodes.map(n => n.dataset.id)"))


async def run_to_end(page: Page, status: str) -> None:
    shown = page.get_by_test_id("run-status")
    previous = await shown.get_attribute("data-run-id") if await shown.count() else None
    await page.get_by_test_id("run-button").click()
    if previous is not None:  # the panel keeps showing the last run until this one is accepted
        await expect(shown).not_to_have_attribute("data-run-id", previous)
    await expect(shown).to_have_attribute("data-status", status)


async def add_credential(page: Page, name: str, value: str, description: str = "") -> None:
    """Adds a credential through the Credentials panel, leaving the panel open."""
    if not await page.get_by_test_id("credentials-drawer").is_visible():
        await page.get_by_test_id("credentials-button").click()
    await page.get_by_test_id("credential-add").click()
    form = page.get_by_test_id("credential-form")
    await form.get_by_test_id("credential-name").fill(name)
    await form.get_by_test_id("credential-value").fill(value)
    if description:
        await form.get_by_test_id("credential-description").fill(description)
    await form.get_by_test_id("credential-save").click()
    await expect(page.get_by_test_id(f"credential-row-{name}")).to_be_visible()
    await expect(form).to_have_count(0)


async def local_storage(page: Page) -> str:
    return str(await page.evaluate("() => JSON.stringify(Object.entries(window.localStorage))"))


async def api(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A REST call as the admin (the stack's client), for what a test checks behind the builder's back."""
    assert stack.http is not None
    async with stack.http.request(method, f"{stack.base_url}{path}", json=body) as response:
        return response.status, await response.json(content_type=None)


async def saved_id(stack: Stack, name: str) -> str:
    _, body = await api(stack, "GET", "/v1/workflows")
    return str(next(w["id"] for w in body["workflows"] if w["name"] == name))


async def save(page: Page, version: int) -> None:
    """Ctrl+S, then waits until the toolbar says the canvas is that saved version, unchanged."""
    await page.keyboard.press("Control+s")
    await expect(page.get_by_test_id("save-state")).to_have_text(f"v{version}")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-unsaved", "false")
