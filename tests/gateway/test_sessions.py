"""Sign-in codes and server-side sessions, over real HTTP on a real nats-server: a code signs in once and not after
it expires, sign-out ends a copied cookie, the cookie is named for its port, an existing session is replaced only
on request, and a new admin token ends the old one's sessions."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime
from typing import Any

import aiohttp

from bus import Bus
from tests.gateway.test_auth import bearer, new_token
from tests.gateway.test_rest_api import request
from tests.support.stack import ADMIN_TOKEN, Stack
from tests.support.waiting import eventually


def cookie_jar() -> aiohttp.CookieJar:
    # unsafe=True: aiohttp keeps no cookies for bare IP addresses (127.0.0.1) otherwise; browsers do.
    return aiohttp.CookieJar(unsafe=True)


async def new_code(stack: Stack, token: str = ADMIN_TOKEN) -> dict[str, Any]:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{stack.base_url}/v1/session/codes", headers=bearer(token)) as response:
            assert response.status == 201, await response.text()
            assert response.headers["Cache-Control"] == "no-store"
            answer: dict[str, Any] = await response.json()
            return answer


async def exchange(client: aiohttp.ClientSession, stack: Stack, **body: Any) -> tuple[int, Any, dict[str, str]]:
    # The builder's own request: same origin.
    async with client.post(f"{stack.base_url}/v1/session", json=body, headers={"Origin": stack.base_url}) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


async def who(client: aiohttp.ClientSession, stack: Stack, cookies: dict[str, str] | None = None) -> int | Any:
    async with client.get(f"{stack.base_url}/v1/session", cookies=cookies) as response:
        return await response.json() if response.status == 200 else response.status


def port_of(stack: Stack) -> str:
    return stack.base_url.rsplit(":", 1)[1]


async def test_a_sign_in_code_works_once_and_is_stored_only_hashed(stack: Stack, bus: Bus) -> None:
    created = await new_code(stack)
    code = created["code"]
    assert created["url"] == f"{stack.base_url}/?code={code}"
    assert datetime.fromisoformat(created["expiresAt"]).timestamp() - time.time() > 60
    stored = b"".join([(await bus.sessions.kv.get(key)).value or b"" for key in await bus.sessions.kv.keys()])
    assert code.encode() not in stored and ADMIN_TOKEN.encode() not in stored

    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        status, body, headers = await exchange(browser, stack, code=code)
        assert status == 200 and body == {"name": "admin", "role": "admin"}
        cookie = headers["Set-Cookie"]
        assert cookie.startswith(f"automateos_session_{port_of(stack)}=")
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
        assert ADMIN_TOKEN not in cookie and code not in cookie
        assert await who(browser, stack) == {"name": "admin", "role": "admin"}

    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as second:
        status, body, headers = await exchange(second, stack, code=code)
        assert status == 401 and body["error"]["fields"] == [
            {"field": "code", "reason": "unknown, used or expired", "nodeId": None, "edgeId": None}]
        assert "Set-Cookie" not in headers
        status, body, _ = await exchange(second, stack, code=code, token=ADMIN_TOKEN)
        assert status == 422 and body["error"]["fields"][0]["field"] == "code"
        status, body, _ = await exchange(second, stack)
        assert status == 422 and body["error"]["fields"][0]["field"] == "code"


async def test_a_code_is_used_once_when_exchanges_race(stack: Stack) -> None:
    code = (await new_code(stack))["code"]
    clients = [aiohttp.ClientSession(cookie_jar=cookie_jar()) for _ in range(8)]
    try:
        answers = await asyncio.gather(*(exchange(client, stack, code=code) for client in clients))
    finally:
        for client in clients:
            await client.close()
    assert sorted(status for status, _, _ in answers) == [200] + [401] * 7


async def test_a_code_does_not_work_after_it_expires(stack_parts: Stack) -> None:
    # AUTOMATEOS_SIGN_IN_CODE_MINUTES, made short so the test waits a second rather than five minutes.
    stack_parts.bus_settings = dataclasses.replace(stack_parts.bus_settings, sign_in_code_s=1.0)
    await stack_parts.start_gateway()
    created = await new_code(stack_parts)
    expires = datetime.fromisoformat(created["expiresAt"]).timestamp()
    assert expires - time.time() <= 1.0

    async def expired() -> bool:
        return time.time() > expires

    await eventually(expired, what="the code's expiry")
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        status, body, headers = await exchange(browser, stack_parts, code=created["code"])
    assert status == 401 and body["error"]["fields"][0]["field"] == "code" and "Set-Cookie" not in headers


async def test_only_a_token_makes_codes_and_a_code_signs_in_as_that_token(stack: Stack) -> None:
    runner = await new_token(stack, "viewer", "runner")
    code = (await new_code(stack, runner))["code"]
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        assert (await exchange(browser, stack, code=code))[0] == 200
        assert await who(browser, stack) == {"name": "viewer", "role": "runner"}
        async with browser.post(f"{stack.base_url}/v1/session/codes", headers={"Origin": stack.base_url}) as response:
            assert response.status == 403, "a signed-in browser cannot mint codes (a copied cookie would outlive sign-out)"
        # Revoking the token ends its sessions, and its unused codes.
        unused = (await new_code(stack, runner))["code"]
        assert (await request(stack, "DELETE", "/v1/tokens/viewer"))[0] == 204
        assert await who(browser, stack) == 401
        async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as other:
            assert (await exchange(other, stack, code=unused))[0] == 401


async def test_sign_out_ends_the_session_for_a_copied_cookie(stack: Stack) -> None:
    name = f"automateos_session_{port_of(stack)}"
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser, aiohttp.ClientSession() as thief:
        assert (await exchange(browser, stack, code=(await new_code(stack))["code"]))[0] == 200
        stolen = {name: next(c.value for c in browser.cookie_jar if c.key == name)}
        assert await who(thief, stack, stolen) == {"name": "admin", "role": "admin"}, "a copied cookie works..."
        async with browser.delete(f"{stack.base_url}/v1/session", headers={"Origin": stack.base_url}) as response:
            assert response.status == 204
        assert await who(browser, stack) == 401
        assert await who(thief, stack, stolen) == 401, "...until its session signs out, everywhere at once"


async def test_the_cookie_is_named_for_its_port(stack: Stack) -> None:
    port = port_of(stack)
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser, aiohttp.ClientSession() as other:
        assert (await exchange(browser, stack, code=(await new_code(stack))["code"]))[0] == 200
        session_id = next(c.value for c in browser.cookie_jar if c.key == f"automateos_session_{port}")
        assert await who(other, stack, {f"automateos_session_{port}": session_id}) == {"name": "admin", "role": "admin"}
        # What a gateway on another port, or the old unscoped name, would be sent: not this gateway's session.
        assert await who(other, stack, {"automateos_session_1": session_id}) == 401
        assert await who(other, stack, {"automateos_session": session_id}) == 401


async def test_an_existing_session_is_replaced_only_when_asked(stack: Stack) -> None:
    runner = await new_token(stack, "someone-else", "runner")
    port = port_of(stack)
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        assert (await exchange(browser, stack, code=(await new_code(stack))["code"]))[0] == 200
        admin_session = next(c.value for c in browser.cookie_jar if c.key == f"automateos_session_{port}")
        code = (await new_code(stack, runner))["code"]
        status, body, headers = await exchange(browser, stack, code=code)
        assert status == 409 and "Set-Cookie" not in headers
        assert body["error"]["signIn"] == {"current": {"name": "admin", "role": "admin"},
                                           "requested": {"name": "someone-else", "role": "runner"}}
        assert body["error"]["fields"][0]["field"] == "replace"
        assert await who(browser, stack) == {"name": "admin", "role": "admin"}, "still the admin"
        # The question did not use the code up: the user's yes does.
        status, body, _ = await exchange(browser, stack, code=code, replace=True)
        assert status == 200 and body == {"name": "someone-else", "role": "runner"}
        assert await who(browser, stack) == {"name": "someone-else", "role": "runner"}
        async with aiohttp.ClientSession() as other:
            assert await who(other, stack, {f"automateos_session_{port}": admin_session}) == 401, "the replaced one ended"
        # Signing in again as whom the browser is already needs no question.
        status, _, _ = await exchange(browser, stack, token=runner)
        assert status == 200


async def test_a_session_ends_when_idle(stack_parts: Stack) -> None:
    stack_parts.bus_settings = dataclasses.replace(stack_parts.bus_settings, session_idle_s=1.0)
    await stack_parts.start_gateway()
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        assert (await exchange(browser, stack_parts, code=(await new_code(stack_parts))["code"]))[0] == 200
        idle_from = time.time()
        assert await who(browser, stack_parts) == {"name": "admin", "role": "admin"}


        async def idle_long_enough() -> bool:
            return time.time() > idle_from + 1.0  # idle means no requests: there is nothing else to poll

        await eventually(idle_long_enough, what="the idle timeout")
        assert await who(browser, stack_parts) == 401


async def test_the_old_token_link_no_longer_signs_in(stack: Stack) -> None:
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        async with browser.get(f"{stack.base_url}/?token={ADMIN_TOKEN}&tab=2", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/?tab=2&signin=token-link", "the token leaves the address bar"
            assert "Set-Cookie" not in response.headers
        assert await who(browser, stack) == 401


async def test_a_new_admin_token_ends_the_old_ones_sessions(stack_parts: Stack) -> None:
    await stack_parts.start_gateway()
    async with aiohttp.ClientSession(cookie_jar=cookie_jar()) as browser:
        assert (await exchange(browser, stack_parts, code=(await new_code(stack_parts))["code"]))[0] == 200
        assert await who(browser, stack_parts) == {"name": "admin", "role": "admin"}
        await stack_parts.stop_gateway()
        stack_parts.admin_token = "test-admin-rotated-" + "x" * 16
        await stack_parts.start_gateway()
        assert await who(browser, stack_parts) == 401


async def test_a_busy_session_is_refreshed_once_in_a_while_not_on_every_request(bus: Bus) -> None:
    session_id = await bus.sessions.open("a" * 64)
    key = next(key for key in await bus.sessions.kv.keys() if key.startswith("session."))
    written = (await bus.sessions.kv.get(key)).revision
    for _ in range(5):
        assert await bus.sessions.get(session_id, idle_s=3600, refresh_after_s=300) is not None
    assert (await bus.sessions.kv.get(key)).revision == written, "requests within the refresh interval write nothing"
    refreshed = await bus.sessions.get(session_id, idle_s=3600, refresh_after_s=0)
    assert refreshed is not None and ((await bus.sessions.kv.get(key)).revision or 0) > (written or 0)
    await bus.sessions.end(session_id)
    assert await bus.sessions.get(session_id, idle_s=3600, refresh_after_s=0) is None
