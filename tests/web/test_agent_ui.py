"""The agent step in the builder (issue 21, item 6): its tools picked from saved workflows by name and an MCP server
added as a row (never raw JSON), run against an OpenAI-compatible mock, and its turns shown: the model's text and
each tool call with its arguments and result, a workflow tool's call linking to its own run."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.chat_api import Completion, MockChatApi, tool_call
from tests.support.mcp_server import McpTestServer
from tests.support.stack import Stack
from tests.test_agent_step import order_tools
from tests.web.builder import api


async def test_an_agent_is_set_up_from_the_form_run_and_its_turns_shown(
        page: Page, builder_stack: Stack, chat_api: MockChatApi, mcp_server: McpTestServer) -> None:
    for name, value in (("openai", "sk-test-key"), ("mcpToken", mcp_server.token)):
        status, _ = await api(builder_stack, "POST", "/v1/credentials", {"name": name, "value": value})
        assert status == 201
    await order_tools(builder_stack)
    chat_api.script(
        Completion(content="Let me check.", prompt_tokens=30, completion_tokens=10, finish_reason="tool_calls",
                   tool_calls=[tool_call("look_up_order", {"orderId": "A1"}, "call_a"),
                               tool_call("add", {"a": 2, "b": 3}, "call_c")]),
        Completion(content="Order A1 is paid, and 2 + 3 = 5.", prompt_tokens=80, completion_tokens=15))
    await page.reload()
    await page.get_by_test_id("node-start").click()
    await page.get_by_test_id("palette-agent").click()
    form = page.get_by_test_id("inspector")
    await page.get_by_test_id("field-baseUrl").locator("input").fill(chat_api.base_url)
    await page.get_by_test_id("field-credentialName").locator("select").select_option("openai")
    await page.get_by_test_id("field-model").locator("input").fill("gpt-test")
    await page.get_by_test_id("field-prompt").locator("textarea").fill("Handle order A1")
    picker = page.get_by_test_id("workflow-picker-tools")
    await picker.locator("input").fill("Look up")
    await page.get_by_role("option", name="Look up order").click()
    await expect(page.get_by_test_id("tools-picked")).to_contain_text("Look up order")
    await page.get_by_test_id("mcpServers-add").click()
    await form.get_by_label("MCP server 1 URL").fill(mcp_server.url)
    await form.get_by_label("MCP server 1 token").select_option("mcpToken")
    await expect(form.locator(".field__error")).to_have_count(0)

    await page.get_by_test_id("run-button").click()
    await expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    await page.get_by_test_id("node-agent_1").click()
    await page.get_by_test_id("tab-run").click()
    turns = page.get_by_test_id("agent-turns")
    await expect(turns.get_by_test_id("agent-call-m1")).to_contain_text("Let me check.")
    await expect(turns.get_by_test_id("agent-call-m1")).to_contain_text("Asked for look_up_order, add")
    look_up = turns.locator("li.agent-turn--tool", has_text="Tool look_up_order")
    call_id = str(await look_up.get_attribute("data-testid")).removeprefix("agent-call-")
    await expect(look_up.get_by_test_id(f"agent-arguments-{call_id}")).to_contain_text('"orderId": "A1"')
    await expect(look_up.get_by_test_id(f"agent-result-{call_id}")).to_contain_text('"status": "paid"')
    await expect(turns.locator("li.agent-turn--tool", has_text="Tool add")).to_contain_text('"sum": 5')
    await expect(turns.get_by_test_id("agent-call-m2")).to_contain_text("Order A1 is paid, and 2 + 3 = 5.")
    # A workflow tool's call ran as a run of its own: its link opens it.
    await look_up.get_by_test_id(f"agent-call-run-{call_id}").click()
    await expect(page.get_by_test_id("run-parent")).to_contain_text("Started by run")
    assert mcp_server.calls == [("add", {"a": 2, "b": 3})]
