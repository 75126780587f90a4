"""/v1/credentials: values go in, only masked forms ever come out."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack, http_graph

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
    assert set(body[0]) == {"name", "masked", "description", "allowedHosts", "createdAt", "updatedAt", "unreadable"}
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


async def test_deleting_a_credential_saved_workflows_use_is_refused_naming_them_unless_forced(stack: Stack) -> None:
    for name in ("slack", "notion", "unused"):
        assert (await call(stack, "POST", "/v1/credentials", json={"name": name, "value": "v" * 20}))[0] == 201
    by_field = http_graph("https://example.com/hook", name="Alerts",
                          auth={"credentialName": "slack"})
    by_template = http_graph("https://api.notion.com/v1/pages", name="Notion pages",
                             headers={"Authorization": "Bearer {{ getCredential('notion') }}"})
    ids = {}
    for graph in (by_field, by_template):
        status, body, _ = await call(stack, "POST", "/v1/workflows", json={"name": graph["meta"]["name"], "graph": graph})
        assert status == 201, body
        ids[graph["meta"]["name"]] = body["id"]

    status, body, _ = await call(stack, "DELETE", "/v1/credentials/slack")
    assert status == 409 and body["error"]["code"] == "in_use", body
    assert body["error"]["usedBy"] == [{"id": ids["Alerts"], "name": "Alerts", "active": False}]
    assert "'Alerts'" in body["error"]["message"] and body["error"]["fields"][0]["field"] == "name"
    status, body, _ = await call(stack, "DELETE", "/v1/credentials/notion")
    assert status == 409 and [w["name"] for w in body["error"]["usedBy"]] == ["Notion pages"]
    names = [c["name"] for c in (await call(stack, "GET", "/v1/credentials"))[1]]
    assert names == ["notion", "slack", "unused"], "a refused delete must keep the credential"

    assert (await call(stack, "DELETE", "/v1/credentials/unused"))[0] == 204
    assert (await call(stack, "DELETE", "/v1/credentials/slack?force=yes"))[0] == 422
    assert (await call(stack, "DELETE", "/v1/credentials/slack?force=true"))[0] == 204
    status, entries, _ = await call(stack, "GET", "/v1/audit?limit=5")
    assert status == 200
    [forced] = [e for e in entries["entries"] if e["action"] == "credential.delete" and e["target"] == "slack"]
    assert forced["detail"] == {"forced": True}
