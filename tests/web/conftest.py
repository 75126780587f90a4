"""Browser tests of the web builder: real gateway, orchestrator and engine, driven through Debian's Chromium.

Without Chromium (or Playwright, or a built web/dist) the tests skip and say how to get it, unless CI=true,
where they must run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from automateos.settings import REPO_ROOT
from tests.support.stack import Stack

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEB_DIST = REPO_ROOT / "web" / "dist"
EXPECT_TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM}: install it with `apt-get update && apt-get install -y chromium`")
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        _unavailable("Playwright is not installed: `pip install playwright` (use the system Chromium; never `playwright install`)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def builder_stack(stack_parts: Stack) -> AsyncIterator[Stack]:
    """The whole system, with the gateway serving the built builder from web/dist."""
    if not (WEB_DIST / "index.html").exists():
        _unavailable("web/dist is not built: run `cd web && npm install && npm run build`")
    await stack_parts.start_orchestrator()
    await stack_parts.start_worker()
    await stack_parts.start_gateway(web_dist=WEB_DIST)
    yield stack_parts


@pytest.fixture
async def page(browser: Browser, builder_stack: Stack) -> AsyncIterator[Page]:
    """A fresh browser profile (so a fresh autosave) on the builder, loaded and idle."""
    from playwright.async_api import expect

    context = await browser.new_context(
        base_url=builder_stack.base_url, viewport={"width": 1440, "height": 900}, accept_downloads=True
    )
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    await opened.goto(f"/?token={builder_stack.admin_token}")  # the sign-in link `make up` prints
    await expect(opened.get_by_test_id("node-start")).to_be_visible()
    yield opened
    await context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
