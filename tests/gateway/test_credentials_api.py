"""/v1/credentials: values go in, only masked forms ever come out."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack

SECRET = "sk_live_4f1c2a9b8e7d6c5b9f3a"


async def call(stack: Stack, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
    assert stack.http is not None
    async with stack.http.request(method, f"{stack.base_url}{path}", **kwargs) as response:
        text = await response.text()
        return response.status, (await response.json(content_type=None)) if text else None, text


async def test_create_list_replace_delete_never_return_the_value(stack: Stack) -> None:
    texts = []
    status, body, text = await call(stack, "POST", "/v1/credentials", json={"name": "stripe", "value": SECRET, "description": "live"})
    texts.append(text)
    assert status == 201 and body["name"] == "stripe" and body["masked"] == "••••9f3a" and body["description"] == "live"
    status, body, text = await call(stack, "GET", "/v1/credentials")
    texts.append(text)
    assert status == 200 and [c["name"] for c in body] == ["stripe"] and body[0]["masked"] == "••••9f3a"
    assert set(body[0]) == {"name", "masked", "description", "createdAt", "updatedAt"}
    status, body, text = await call(stack, "PUT", "/v1/credentials/stripe", json={"value": SECRET[::-1]})
    texts.append(text)
    assert status == 200 and body["masked"] == f"••••{SECRET[::-1][-4:]}" and body["description"] == "live"
    status, _, _ = await call(stack, "PUT", "/v1/credentials/fresh", json={"value": "short"})
    assert status == 201
    status, _, _ = await call(stack, "DELETE", "/v1/credentials/stripe")
    assert status == 204
    status, body, _ = await call(stack, "DELETE", "/v1/credentials/stripe")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert not [t for t in texts if SECRET in t or SECRET[::-1] in t]


async def test_bad_names_empty_values_and_duplicates(stack: Stack) -> None:
    status, body, _ = await call(stack, "POST", "/v1/credentials", json={"name": "no spaces!", "value": ""})
    assert status == 422
    assert {f["field"] for f in body["error"]["fields"]} == {"name", "value"}
    status, body, _ = await call(stack, "POST", "/v1/credentials", json={"name": "x" * 65, "value": "v"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "name"
    await call(stack, "POST", "/v1/credentials", json={"name": "dup", "value": "v1"})
    status, body, _ = await call(stack, "POST", "/v1/credentials", json={"name": "dup", "value": "v2"})
    assert status == 409 and body["error"]["fields"][0] == {"field": "name", "reason": "already exists", "nodeId": None, "edgeId": None}
    status, body, _ = await call(stack, "PUT", "/v1/credentials/bad%20name", json={"value": "v"})
    assert status == 422 and body["error"]["fields"][0]["field"] == "name"


async def test_names_the_store_cannot_key_are_refused_with_the_field_not_a_500(stack: Stack) -> None:
    for name in (".", ".x", "x.", "a..b"):
        status, body, _ = await call(stack, "POST", "/v1/credentials", json={"name": name, "value": "v"})
        assert status == 422 and body["error"]["fields"][0]["field"] == "name", (name, body)
        status, body, _ = await call(stack, "PUT", f"/v1/credentials/{name}", json={"value": "v"})
        assert 400 <= status < 500 and "error" in body, (name, status, body)  # "." is normalised away by the URL
    status, body, _ = await call(stack, "POST", "/v1/credentials", json={"name": "notion.prod", "value": "v"})
    assert status == 201 and body["name"] == "notion.prod"
