"""The approval page of a wait step in Chromium, under the gateway's content policies: styled, script-free, no
policy violation, and its form answers the step (a same-origin form post, with no sign-in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.gateway.test_resume import approval_graph, started_waiting
from tests.support.graphs import steps_by_id
from tests.support.mock_http import MockHttp
from tests.support.stack import Stack

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def test_a_person_rejects_on_the_page_with_a_comment(browser: Browser, stack: Stack, mock_http: MockHttp) -> None:
    from playwright.async_api import expect

    run_id, url = await started_waiting(stack, mock_http, approval_graph(mock_http), "ask")
    context = await browser.new_context()  # no session: the link alone
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        await page.goto(url)
        await expect(page.get_by_role("heading", name="Ask finance")).to_be_visible()
        await expect(page.locator(".message")).to_contain_text("Refund <script>alert('x')</script> & more?")
        approve = page.get_by_role("button", name="Approve")
        # The nonced stylesheet applied: the Approve button is green.
        assert await approve.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(26, 127, 55)"
        await page.get_by_label("Comment (optional)").fill("not this month")
        await page.get_by_role("button", name="Reject").click()
        await expect(page.get_by_text("Thank you — rejected.")).to_be_visible()
    finally:
        await context.close()
    assert not [text for text in console if "Content Security Policy" in text], console
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert steps["ask"]["output"] == {"approved": False, "comment": "not this month"}
    assert steps["on_rejected"]["status"] == "succeeded" and steps["on_approved"]["status"] == "skipped"
