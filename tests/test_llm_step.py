"""The llm step end to end against a local OpenAI-compatible server: text and JSON answers, a schema the answer
fails, 429 with Retry-After, and a canary API key found nowhere but in the server's Authorization header."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import pytest

from bus import Bus, EmbeddedNats
from tests.support.chat_api import Completion, MockChatApi
from tests.support.graphs import edge, graph, node, steps_by_id
from tests.support.canary import add_credential, leaks, places
from tests.support.stack import Stack

SENTIMENT = {"type": "object", "properties": {"sentiment": {"enum": ["positive", "negative"]}, "score": {"type": "number"}},
             "required": ["sentiment", "score"], "additionalProperties": False}



def llm_graph(api: MockChatApi, settings: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    fields = {"baseUrl": api.base_url, "credentialName": "openai", "model": "gpt-test",
              "prompt": "Classify: {{ review }}", **config}
    return graph(node("ask", "llm", settings=settings, **fields), edges=[edge("start", "ask")])


async def run(stack: Stack, document: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    return await stack.finish(await stack.start_run(document, inputs={"review": "Great product", **inputs}))


async def test_text_answer(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    chat_api.script(Completion(content="positive", prompt_tokens=21, completion_tokens=1))
    record = await run(stack, llm_graph(chat_api, system="Answer in one word.", temperature=0.2, maxTokens=5))
    ask = steps_by_id(record)["ask"]
    assert record["status"] == "succeeded", ask
    assert ask["output"] == {"text": "positive", "model": "mock-model-1", "finishReason": "stop",
                             "usage": {"promptTokens": 21, "completionTokens": 1}}
    [sent] = chat_api.received
    assert sent.headers["Authorization"] == "Bearer sk-test-key"
    assert sent.body == {"model": "gpt-test", "temperature": 0.2, "max_tokens": 5, "messages": [
        {"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Classify: Great product"}]}
    request = ask["request"]
    assert request["url"] == f"{chat_api.base_url}/chat/completions" and request["headers"]["Authorization"] == "••••••"
    assert request["body"]["messages"][1]["content"] == "Classify: Great product", "the builder shows what was sent"
    assert any("mock-model-1 answered in" in entry["msg"] for entry in record["logs"])


async def test_json_answer_with_a_schema(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    chat_api.script(Completion(content='{"sentiment": "positive", "score": 0.93}'))
    record = await run(stack, llm_graph(chat_api, responseFormat="json", jsonSchema=SENTIMENT))
    ask = steps_by_id(record)["ask"]
    assert record["status"] == "succeeded", ask
    assert ask["output"]["json"] == {"sentiment": "positive", "score": 0.93}
    assert chat_api.received[0].body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": SENTIMENT, "strict": True}}


async def test_json_answer_without_a_schema_asks_for_a_json_object(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    chat_api.script(Completion(content='{"any": ["thing"]}'))
    record = await run(stack, llm_graph(chat_api, responseFormat="json"))
    assert steps_by_id(record)["ask"]["output"]["json"] == {"any": ["thing"]}
    assert chat_api.received[0].body["response_format"] == {"type": "json_object"}


async def test_an_answer_failing_the_schema_fails_the_step_quoting_its_start(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    answer = json.dumps({"sentiment": "meh " + "x" * 400, "score": 0.5})
    chat_api.script(Completion(content=answer))
    record = await run(stack, llm_graph(chat_api, responseFormat="json", jsonSchema=SENTIMENT))
    ask = steps_by_id(record)["ask"]
    assert record["status"] == "failed" and ask["attempt"] == 1
    assert ask["error"].startswith("the model's answer does not satisfy the JSON Schema (sentiment: "), ask["error"]
    assert answer[:200] in ask["error"] and answer[:201] not in ask["error"], "the first 200 characters, no more"


async def test_an_answer_that_is_not_json_fails_the_step(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    chat_api.script(Completion(content="Sure! Here is your JSON: {"))
    record = await run(stack, llm_graph(chat_api, responseFormat="json"))
    assert steps_by_id(record)["ask"]["error"] == "the model's answer is not JSON: 'Sure! Here is your JSON: {'"


async def test_429_with_retry_after_is_retried_after_the_wait(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-test-key")
    chat_api.script(Completion(status=429, error="Rate limit reached for gpt-test", headers={"Retry-After": "1"}),
                    Completion(content="positive"))
    retry = {"maxAttempts": 3, "initialIntervalMs": 100, "backoffCoefficient": 2.0, "maxIntervalMs": 5000}
    record = await run(stack, llm_graph(chat_api, settings={"retry": retry}))
    ask = steps_by_id(record)["ask"]
    assert record["status"] == "succeeded" and ask["attempt"] == 2 and ask["output"]["text"] == "positive"
    first = ask["attempts"][0]
    assert first["retryInMs"] == 1000, "Retry-After, not the 100 ms backoff"
    assert "HTTP 429" in first["error"] and "Rate limit reached for gpt-test" in first["error"]
    assert len(chat_api.received) == 2


async def test_a_wrong_key_is_not_retried(stack: Stack, chat_api: MockChatApi) -> None:
    await add_credential(stack, "openai", "sk-wrong")
    record = await run(stack, llm_graph(chat_api, settings={"retry": {"maxAttempts": 3, "initialIntervalMs": 100}}))
    ask = steps_by_id(record)["ask"]
    assert record["status"] == "failed" and ask["attempt"] == 1
    assert "HTTP 401" in ask["error"] and "Incorrect API key provided." in ask["error"]


@pytest.mark.parametrize("variant", ["echoed", "failed"])
async def test_canary_api_key_appears_nowhere_but_the_servers_authorization_header(
    stack: Stack, chat_api: MockChatApi, bus: Bus, nats_server: EmbeddedNats, caplog: pytest.LogCaptureFixture,
    variant: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = "sk-canary" + secrets.token_hex(16)
    chat_api.api_key = canary
    captured: list[bytes] = []

    async def capture(msg: Any) -> None:
        captured.append(msg.data)

    await bus.nc.subscribe("steps.>", cb=capture)
    await add_credential(stack, "openai", canary)
    # A careless server echoes the key: in its answer, or in its error.
    if variant == "echoed":
        chat_api.script(Completion(content=f"your key is {canary}"))
    else:
        chat_api.script(Completion(status=500, error=f"upstream rejected Bearer {canary}"))
    run_id = await stack.start_run(llm_graph(chat_api), inputs={"review": "ok"})
    events = await stack.events(run_id)
    await bus.nc.flush()
    assert chat_api.received[0].headers["Authorization"] == f"Bearer {canary}", "the real call carries the key"
    assert events[-1]["status"] == ("succeeded" if variant == "echoed" else "failed")

    found = await places(stack, bus, nats_server, run_id, events, caplog.records, captured, paths=[f"/v1/runs/{run_id}/steps/ask/output"])
    assert any(run_id.encode() in blob for blob in found["nats store files"]), "the store scan sees this run's data"
    assert captured, "the step messages were seen"
    assert not leaks(found, canary), leaks(found, canary)
