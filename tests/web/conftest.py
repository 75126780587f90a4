"""Browser tests of the web builder: real gateway, orchestrator and engine, driven through Debian's Chromium.

Without Chromium (or Playwright, or a built web/dist) the tests skip and say how to get it, unless CI=true,
where they must run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from automateos.settings import REPO_ROOT
from tests.support.stack import Stack

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Playwright

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
CLOSE_TIMEOUT_S = 20.0


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
    playwright = await async_playwright().start()
    launched: Browser | None = None
    try:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
    finally:
        # On a loaded CI machine Chromium or the Playwright driver has hung on exit (a 180 s teardown timeout), so the
        # shutdown is bounded and whatever this process started is then killed by PID.
        await _bounded("closing the browser", _close(playwright, launched), kill=True)


async def _bounded(what: str, closing: Coroutine[Any, Any, None], kill: bool = False) -> None:
    """Waits up to CLOSE_TIMEOUT_S for `closing`, then (with `kill`) kills the Chromium and driver processes this
    process started and waits as long again; then abandons it. Not wait_for: that waits for the cancelled
    coroutine to finish, and a hung close never does."""
    task = asyncio.ensure_future(closing)
    done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_S)
    if not done and kill:
        print(f"\n{what} took over {CLOSE_TIMEOUT_S:.0f} s; killing the browser processes", file=sys.stderr)
        _kill_descendants()
        done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT_S)
    if not done:
        print(f"\n{what} did not finish; left behind", file=sys.stderr)
        task.cancel()
    elif task.exception() is not None:
        print(f"\n{what} failed: {task.exception()!r}", file=sys.stderr)


async def _close(playwright: Playwright, launched: Browser | None) -> None:
    if launched is not None:
        await launched.close()
    await playwright.stop()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may contain spaces and parentheses; the fields after the last ")" are fixed.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _kill_descendants() -> None:
    """Kill the Playwright driver and the browsers it started: every descendant of this process named like them."""
    for pid in _descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"chromium" in command or b"playwright" in command:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


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
    await opened.goto(await sign_in_link(builder_stack))  # as the link `make up` prints
    await expect(opened.get_by_test_id("node-start")).to_be_visible()
    yield opened
    await _bounded("closing the browser context", context.close())
    assert not errors, f"uncaught errors in the page: {errors}"


async def sign_in_link(stack: Stack, token: str | None = None) -> str:
    """A one-time sign-in link's path and query (`/?code=…`), as `up` gets one: made with a token."""
    assert stack.http is not None
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with stack.http.post(f"{stack.base_url}/v1/session/codes", headers=headers) as response:
        assert response.status == 201, await response.text()
        return f"/?code={(await response.json())['code']}"
