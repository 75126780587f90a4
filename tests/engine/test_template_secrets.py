"""Secrets in templates: placed as they are, never transformed, and never reported in any form."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from jinja2.exceptions import SecurityError

from engine._sandbox import ENV, Secret
from engine.errors import StepFailed
from engine.nodes import NodeContext
from engine.step_runner import run_step
from engine.templating import Renderer
from schemas import StepDispatch
from schemas.masking import MASK
from tests.support.mock_http import MockHttp, Reply

CANARY = "Canary-5ecret/Value-0123456789"
REFUSED = "getCredential('k') can only be placed as it is"


def renderer() -> Renderer:
    return Renderer({"payload": {"name": "k", "s": "x"}}, {}, {"k": CANARY})


@pytest.mark.parametrize("template", [
    "Bearer {{ getCredential('k') }}",
    "{{ getCredential('k') }}",
    "{{ 'Bearer ' ~ getCredential('k') ~ '!' }}",
    "{{ ('a' ~ getCredential('k')) ~ 'b' }}",
])
def test_a_secret_is_placed_as_it_is(template: str) -> None:
    assert CANARY in renderer().text(template, "headers.Authorization")
    if template.startswith("{{"):
        assert CANARY in renderer().value(template, "json_body.token"), "a whole expression is its value, as text"


@pytest.mark.parametrize("expression", [
    "getCredential('k')|upper", "getCredential('k')|lower", "getCredential('k')|reverse", "getCredential('k')|length",
    "getCredential('k')|tojson", "getCredential('k')|urlencode", "getCredential('k')|string", "getCredential('k')|trim",
    "getCredential('k')|default('x')", "getCredential('k')[::-1]", "getCredential('k')[0:4]", "getCredential('k')[0]",
    "getCredential('k').lower()", "getCredential('k').upper", "getCredential('k') + 'x'", "getCredential('k') * 2",
    "-getCredential('k')", "getCredential('k') == 'x'", "'C' in getCredential('k')", "getCredential('k') is string",
    "('' ~ getCredential('k'))|upper", "[getCredential('k')][0]|upper", "{'v': getCredential('k')}.v|upper",
    "(getCredential('k') ~ '')[::-1]", "getCredential('k') if true else ''", "payload[getCredential('k')]",
    "payload.s.startswith(getCredential('k'))", "[getCredential('k')]",
])
def test_anything_done_to_a_secret_is_refused(expression: str) -> None:
    for render in (renderer().text, renderer().value):
        with pytest.raises(StepFailed) as failure:
            render("{{ " + expression + " }}", "json_body.token")
        assert failure.value.message.startswith(f"the template in json_body.token is not allowed: {REFUSED}")
        assert "filters, methods, slices" in failure.value.message


def test_getcredential_itself_can_only_be_called() -> None:
    for template in ("{{ getCredential|string }}", "{{ [getCredential][0]('k')|upper }}"):
        with pytest.raises(StepFailed, match="getCredential can only be called"):
            renderer().text(template, "url")


@pytest.mark.parametrize("template", [
    "{{ s|upper }}", "{{ s|length }}", "{{ s[::-1] }}", "{{ s[0:4] }}", "{{ s[0] }}", "{{ s.lower() }}",
    "{{ s * 2 }}", "{{ s + 'x' }}", "{{ -s }}", "{{ s is string }}", "{{ 'x'.startswith(s) }}", "{{ p[s] }}",
    "{{ s|join }}",
])
def test_the_sandbox_refuses_a_secret_however_it_got_there(template: str) -> None:
    """The second line, below the check of the template's shape: the value getCredential gives is opaque."""
    with pytest.raises(SecurityError, match=re.escape(REFUSED)):
        ENV.from_string(template).render(s=Secret("k", CANARY), p={CANARY: 1})
    assert ENV.from_string("{{ s }}/{{ 'a' ~ s }}").render(s=Secret("k", CANARY)) == f"{CANARY}/a{CANARY}"
    assert repr(Secret("k", CANARY)) == "getCredential('k')", "what a message could quote: the name, never the value"


class _Credentials:
    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        return CANARY, []


@pytest.fixture
async def context() -> AsyncIterator[NodeContext]:
    async with aiohttp.ClientSession() as session:
        yield NodeContext(session=session, credentials=_Credentials())


def http(**config: Any) -> StepDispatch:
    return StepDispatch(runId="run1", stepId="step_1", name="Call", type="http", config={"method": "POST", **config})


async def test_a_secret_is_sent_where_it_is_placed_and_reported_nowhere(context: NodeContext, mock_http: MockHttp) -> None:
    mock_http.reply("/in", Reply(status=200, body={"echo": CANARY}))
    outcome = await run_step(http(url=mock_http.url("/in") + "?user={{ getCredential('k') }}",
                                  headers={"X-Api": "{{ getCredential('k') }}", "X-Sig": "v1={{ getCredential('k') }}"},
                                  json_body={"key": "{{ getCredential('k') }}", "note": "key {{ getCredential('k') }}"}),
                         context)
    [received] = mock_http.requests_to("/in")
    assert received.headers["X-Api"] == CANARY and received.headers["X-Sig"] == f"v1={CANARY}"
    assert received.json() == {"key": CANARY, "note": f"key {CANARY}"}
    reported = json.dumps([outcome.output, outcome.request.model_dump() if outcome.request else None,
                           [entry.msg for entry in outcome.logs]], ensure_ascii=False)
    assert CANARY not in reported and MASK in reported


@pytest.mark.parametrize("expression", [
    "getCredential('k')|upper", "getCredential('k')|lower", "getCredential('k')[::-1]", "getCredential('k')[0:12]",
    "getCredential('k').lower()", "('x' ~ getCredential('k'))|upper", "getCredential('k')|urlencode",
])
@pytest.mark.parametrize("field", ["url", "headers", "json_body"])
async def test_a_transformed_secret_never_leaves_the_step(
    context: NodeContext, mock_http: MockHttp, expression: str, field: str
) -> None:
    """The canary: whatever a template does to a secret, no form of it is sent, reported or logged."""
    template = "{{ " + expression + " }}"
    config: dict[str, Any] = {"url": mock_http.url("/out")}
    if field == "url":
        config["url"] += "?q=" + template
    elif field == "headers":
        config["headers"] = {"X-Thing": template}
    else:
        config["json_body"] = {"thing": template}
    with pytest.raises(StepFailed) as failure:
        await run_step(http(**config), context)
    assert mock_http.received == [], "nothing was sent"
    assert REFUSED in failure.value.message and field in failure.value.message
    reported = json.dumps([failure.value.message, failure.value.output, failure.value.log,
                           failure.value.request.model_dump() if failure.value.request else None])
    for form in (CANARY, CANARY.upper(), CANARY.lower(), CANARY[::-1], CANARY[:12]):
        assert form not in reported


@pytest.mark.parametrize("template", ["{{ getCredential('k') | upper }}", "x {{ getCredential('k')[::-1] }}"])
def test_compiled_templates_are_reused_but_a_refused_one_stays_refused(template: str) -> None:
    for _ in range(3):  # compiled templates are cached; a refusal must not be
        with pytest.raises(StepFailed, match="can only be placed"):
            renderer().text(template, "url")
        with pytest.raises(StepFailed, match="can only be placed"):
            renderer().value(template.removeprefix("x "), "json_body.v")
    # The same compiled template, other variables: each render reads its own.
    first = Renderer({"name": "Ada"}, {}, {"k": "one-secret-value-xx"})
    second = Renderer({"name": "Bo"}, {}, {"k": "two-secret-value-xx"})
    source = "{{ name }} {{ getCredential('k') }}"
    assert [first.text(source, "url"), second.text(source, "url"), first.text(source, "url")] == [
        "Ada one-secret-value-xx", "Bo two-secret-value-xx", "Ada one-secret-value-xx"]
    assert [first.value("{{ name }}", "v"), second.value("{{ name }}", "v")] == ["Ada", "Bo"]
