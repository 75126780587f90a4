"""The wrapper around every executor, and the logic executors, against a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from engine.errors import StepFailed
from engine.nodes import NodeContext, NodeOutcome, StepContext, register_executor, unregister_executor
from engine.nodes.logic import truthy
from engine.step_runner import run_step
from schemas import REGISTRY, StepDispatch
from schemas._base import Contract
from schemas.masking import MASK
from schemas.node_types import NodeType, NodeUi
from tests.support.mock_http import MockHttp, Reply


class _Credentials:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    async def reveal_fenced(self, name: str) -> tuple[str, list[str]]:
        return self.values[name], []


CANARY = "canary-5ecret-value-0123456789"


@pytest.fixture
async def context() -> AsyncIterator[NodeContext]:
    async with aiohttp.ClientSession() as session:
        yield NodeContext(session=session, credentials=_Credentials({"apiToken": CANARY}))


def step(node_type: str, steps: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
         attempt: int = 1, **config: Any) -> StepDispatch:
    return StepDispatch(runId="run7", stepId="step_3", name="Step", type=node_type, attempt=attempt, config=config,
                        steps=steps or {}, inputs=inputs or {})


ORDER = {"get_order": {"output": {"body": {"amount": 900, "id": "A-1", "tags": ["x", "y"]}}, "status": "succeeded"},
         "create-page": {"output": {"body": {"id": "p-1"}}, "status": "succeeded"}}


@pytest.mark.parametrize(("condition", "expected"), [
    ("{{ steps.get_order.output.body.amount > 500 }}", True),
    ("{{ steps.get_order.output.body.amount > 5000 }}", False),
    # Bare expressions, no braces: evaluated, never read as text (which is always true).
    ("steps.get_order.output.body.amount > 500", True),
    ("steps.get_order.output.body.amount > 5000", False),
    ("1 > 2", False),
    ("2 > 1", True),
    ("steps['create-page'].output.body.id == 'p-1'", True),
    ("steps['create-page'].output.body.id == 'p-2'", False),
    ("{{ steps.get_order.output.body.tags }}", True),
    ("{{ [] }}", False),
    ("{{ 'no' }}", False),
])
async def test_if_evaluates_typed_and_bare_expressions(context: NodeContext, condition: str, expected: bool) -> None:
    outcome = await run_step(step("if", steps=ORDER, condition=condition), context)
    assert outcome.output == {"result": expected} and outcome.handles == ["true" if expected else "false"]


def test_text_that_reads_as_no_is_false() -> None:
    assert [truthy(v) for v in ("", " False ", "0", "no", "None", "null", "yes", "1", 0, 1, None, {}, {"a": 1})] == [
        False, False, False, False, False, False, True, True, False, True, False, False, True]


async def test_switch_matches_a_case_or_takes_default(context: NodeContext) -> None:
    matched = await run_step(step("switch", inputs={"payload": {"region": "eu"}}, value="{{ payload.region }}",
                                  cases=["eu", "us"]), context)
    assert matched.output == {"value": "eu", "matched": "eu"} and matched.handles == ["eu"]
    other = await run_step(step("switch", inputs={"payload": {"region": "asia"}}, value="{{ payload.region }}",
                                cases=["eu", "us"]), context)
    assert other.output == {"value": "asia", "matched": "default"} and other.handles == ["default"]


async def test_set_keeps_the_types_of_whole_expressions(context: NodeContext) -> None:
    outcome = await run_step(step("set", steps=ORDER, values={
        "amount": "{{ steps.get_order.output.body.amount }}", "tags": "{{ steps.get_order.output.body.tags }}",
        "label": "order {{ steps.get_order.output.body.id }}", "fixed": 3, "page": "{{ steps['create-page'].output.body.id }}",
    }), context)
    assert outcome.output == {"amount": 900, "tags": ["x", "y"], "label": "order A-1", "fixed": 3, "page": "p-1"}


async def test_a_number_in_a_json_body_arrives_as_a_number(context: NodeContext, mock_http: MockHttp) -> None:
    await run_step(step("http", steps=ORDER, method="POST", url=mock_http.url("/typed"),
                        json_body={"amount": "{{ steps.get_order.output.body.amount }}"}), context)
    assert mock_http.requests_to("/typed")[0].json() == {"amount": 900}


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (408, True), (429, True),
                                                   (400, False), (404, False), (422, False)])
async def test_which_http_failures_are_worth_another_attempt(
    context: NodeContext, mock_http: MockHttp, status: int, retryable: bool
) -> None:
    mock_http.reply("/status", Reply(status=status, body="nope"))
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="GET", url=mock_http.url("/status")), context)
    assert failure.value.retryable is retryable


async def test_retry_after_is_read_in_seconds_and_as_a_date(context: NodeContext, mock_http: MockHttp) -> None:
    mock_http.reply("/limited", Reply(status=429, headers={"Retry-After": "2"}))
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="GET", url=mock_http.url("/limited")), context)
    assert failure.value.retry_after_ms == 2000
    mock_http.reply("/dated", Reply(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="GET", url=mock_http.url("/dated")), context)
    assert failure.value.retry_after_ms == 0, "a date in the past means: now"


async def test_timeouts_and_refused_connections_are_retryable(context: NodeContext, mock_http: MockHttp) -> None:
    mock_http.reply("/slow", Reply(delay_s=5))
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="GET", url=mock_http.url("/slow"), timeoutMs=100), context)
    assert failure.value.retryable and "timed out" in failure.value.message


async def test_template_errors_are_not_retryable(context: NodeContext, mock_http: MockHttp) -> None:
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="POST", url=mock_http.url("/x"), json_body={"a": "{{ nothing.here }}"}), context)
    assert not failure.value.retryable and mock_http.received == []


@pytest.mark.parametrize(("method", "extra", "expected"), [
    ("POST", {}, "run7-step_3"),
    ("DELETE", {}, "run7-step_3"),
    ("GET", {}, None),
    ("POST", {"sendIdempotencyKey": False}, None),
    ("PATCH", {"headers": {"idempotency-key": "mine"}}, "mine"),
])
async def test_idempotency_key(context: NodeContext, mock_http: MockHttp, method: str, extra: dict[str, Any],
                               expected: str | None) -> None:
    for attempt in (1, 2):
        await run_step(step("http", method=method, url=mock_http.url("/op"), attempt=attempt, **extra), context)
    keys = [{k.lower(): v for k, v in r.headers.items()}.get("idempotency-key") for r in mock_http.requests_to("/op")]
    assert keys == [expected, expected], "the same key on every attempt"


async def test_the_request_is_reported_with_secrets_masked(context: NodeContext, mock_http: MockHttp) -> None:
    mock_http.reply("/echo", Reply(status=500, body={"youSent": CANARY}))
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="POST", url=mock_http.url("/echo") + "?api_key={{ getCredential('apiToken') }}&q=1",
                            headers={"X-Trace": "{{ getCredential('apiToken') }}"}, auth={"credentialName": "apiToken"},
                            json_body={"note": "key {{ getCredential('apiToken') }}", "n": 1}), context)
    request = failure.value.request
    assert request is not None and request.method == "POST"
    assert request.headers["Authorization"] == MASK and request.headers["X-Trace"] == MASK
    assert request.headers["Idempotency-Key"] == "run7-step_3", "an idempotency key is shown: it grants nothing"
    assert "api_key=" in request.url and "q=1" in request.url
    everything = json.dumps([failure.value.message, failure.value.output, request.model_dump()])
    assert CANARY not in everything
    [received] = mock_http.requests_to("/echo")
    assert received.headers["Authorization"] == f"Bearer {CANARY}", "the real value was sent"


class EchoConfig(Contract):
    text: str


@pytest.fixture
def echo_type() -> Iterator[None]:
    REGISTRY.register(NodeType(type="echo_test", kind="action", title="Echo", description="Says it back",
                               config=EchoConfig, templated={"text": "text"},
                               ui=NodeUi(glyph="E", accent="#000", defaultLabel="Echo", idPrefix="echo")))

    async def run_echo(config: EchoConfig, context: StepContext) -> NodeOutcome:
        return NodeOutcome(output={"said": config.text})

    register_executor("echo_test", run_echo)
    yield
    unregister_executor("echo_test")
    REGISTRY.unregister("echo_test")


async def test_a_node_type_added_in_a_test_runs_through_the_wrapper(context: NodeContext, echo_type: None) -> None:
    outcome = await run_step(step("echo_test", inputs={"payload": {"who": "Ada"}},
                                  text="hi {{ payload.who }}, {{ getCredential('apiToken') }}"), context)
    assert outcome.output == {"said": f"hi Ada, {MASK}"}, "templated and scrubbed with no code of its own"


@pytest.mark.parametrize(("value", "cases", "matched"), [
    ("{{ payload.flag }}", ["true", "false"], "true"),
    ("{{ payload.n }}", ["1", "2"], "1"),
    ("{{ payload.missing | default('') }}", ["a"], "default"),
    ("{{ payload.region }}-x", ["eu-x"], "eu-x"),
])
async def test_switch_compares_the_text_of_typed_values(context: NodeContext, value: str, cases: list[str],
                                                         matched: str) -> None:
    inputs = {"payload": {"flag": True, "n": 1.0, "region": "eu"}}
    outcome = await run_step(step("switch", inputs=inputs, value=value, cases=cases), context)
    assert outcome.output["matched"] == matched and outcome.handles == [matched]


@pytest.mark.parametrize("condition", ["{{ steps.get_order.output.body.amount }} > 5000", "{{ 1 > 2 }} and {{ 2 > 3 }}"])
async def test_a_condition_mixing_braces_and_text_fails_instead_of_reading_as_true(context: NodeContext,
                                                                                 condition: str) -> None:
    # The compiler refuses these before a run starts; a dispatch that carries one anyway must not take a branch.
    with pytest.raises(StepFailed, match="write it whole inside one"):
        await run_step(step("if", steps=ORDER, condition=condition), context)


async def test_a_cut_request_body_shows_no_secret_and_no_sensitive_field(context: NodeContext, mock_http: MockHttp) -> None:
    pad = "p" * (64 * 1024 - 20)
    outcome = await run_step(step("http", method="POST", url=mock_http.url("/big"), inputs={"pad": pad},
                                  json_body={"password": "hunter2-secret", "note": "{{ pad }}{{ getCredential('apiToken') }}"}),
                             context)
    request = outcome.request
    assert request is not None and request.truncated
    assert "hunter2" not in str(request.body) and CANARY[:8] not in str(request.body)


@pytest.mark.parametrize(("json_body", "message"), [
    ({"a": "{{ [pad, pad] }}"}, "the template in json_body.a is not allowed: the value would be larger than 256 KiB"),
    ({"a": "{{ pad }}", "b": "{{ pad }}"}, "after filling in its templates, json_body would be larger than 256 KiB"),
    ({"a": "{{ [['a' * 262144] * 262144] }}"}, "the value would be larger than 256 KiB"),
])
async def test_a_json_body_is_capped_however_its_values_are_built(
    context: NodeContext, mock_http: MockHttp, json_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(StepFailed) as failure:
        await run_step(step("http", method="POST", url=mock_http.url("/big"), inputs={"pad": "p" * 200_000},
                            json_body=json_body), context)
    assert message in failure.value.message and mock_http.received == []
