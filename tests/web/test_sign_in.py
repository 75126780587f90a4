"""Signing in with the one-time link `up` prints, in Chromium: the code leaves the address bar and works once, the
session cookie is HttpOnly, SameSite=Strict and named for its port, and a link another page sends a signed-in user
to never swaps the session without the user's yes (login CSRF)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.gateway.test_auth import new_token
from tests.support.stack import Stack
from tests.web.conftest import sign_in_link



async def test_a_sign_in_link_works_once_and_leaves_the_address(browser: Browser, builder_stack: Stack) -> None:
    link = await sign_in_link(builder_stack)
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    try:
        page = await context.new_page()
        await page.goto(link)
        await expect(page.get_by_test_id("node-start")).to_be_visible()
        await expect(page.get_by_test_id("session-chip")).to_contain_text("admin")
        assert page.url == f"{builder_stack.base_url}/", "the code left the address bar"
        code = link.split("=", 1)[1]
        kept = await page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), "
                                   "history.state, document.referrer])")
        assert code not in kept and builder_stack.admin_token not in kept
        port = builder_stack.base_url.rsplit(":", 1)[1]
        [cookie] = await context.cookies()
        assert cookie["name"] == f"automateos_session_{port}" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/" and code not in cookie["value"]
    finally:
        await context.close()

    # The same link again, in another browser: used up, and the page says how to get a new one.
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    try:
        page = await context.new_page()
        await page.goto(link)
        await expect(page.get_by_test_id("sign-in-error")).to_contain_text("already used or has expired")
        assert "code=" not in page.url
        assert await context.cookies() == []
    finally:
        await context.close()


async def test_a_signed_in_session_is_replaced_only_with_the_users_yes(browser: Browser, builder_stack: Stack) -> None:
    runner = await new_token(builder_stack, "mallory", "runner")
    context = await browser.new_context(base_url=builder_stack.base_url, viewport={"width": 1280, "height": 720})
    other_port = "http://127.0.0.1:1"  # another web app on this machine (served by the route below)
    try:
        page = await context.new_page()
        await page.goto(await sign_in_link(builder_stack))
        await expect(page.get_by_test_id("session-chip")).to_contain_text("admin")

        # A page on another port sends the signed-in admin to a link with its own code.
        attackers = await sign_in_link(builder_stack, runner)
        target = f"{builder_stack.base_url}{attackers}"
        await context.route(f"{other_port}/**", lambda route: route.fulfill(
            content_type="text/html", body=f"<script>location.href = {target!r};</script>"))
        await page.goto(f"{other_port}/innocent")
        question = page.get_by_test_id("sign-in-replace-question")
        await expect(question).to_have_text("Sign in as mallory (runner) instead of admin (admin)?")
        assert "code=" not in page.url
        await page.get_by_test_id("sign-in-replace-no").click()
        await expect(page.get_by_test_id("session-chip")).to_contain_text("admin")
        await expect(page.get_by_test_id("node-start")).to_be_visible()
        await page.reload()
        await expect(page.get_by_test_id("session-chip")).to_contain_text("admin")

        # The user's own link for another user: switched, on their yes.
        await page.goto(await sign_in_link(builder_stack, runner))
        await expect(question).to_have_text("Sign in as mallory (runner) instead of admin (admin)?")
        await page.get_by_test_id("sign-in-replace-yes").click()
        await expect(page.get_by_test_id("session-chip")).to_contain_text("mallory")
    finally:
        await context.close()
