"""The gateway's REST API as the `automateos` commands use it: one session, the token, errors as sentences."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp

from .interrupt import pending


class CommandError(Exception):
    """The command could not do what was asked; the message says why (and what to do)."""


class ApiClient:
    def __init__(self, gateway: str, token: str | None) -> None:
        self.gateway = gateway.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        self.session = aiohttp.ClientSession(headers=self._headers)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.session is not None:
            await self.session.close()

    async def call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202, 204)) -> Any:
        assert self.session is not None, "use `async with ApiClient(…)`"
        try:
            if method == "GET":
                return await self._request(method, path, body, ok)
            with pending(f"{method} {path} may have taken effect"):
                return await self._request(method, path, body, ok)
        except aiohttp.ClientConnectionError as error:
            raise CommandError(f"cannot reach the gateway at {self.gateway} ({error}); start it with `make up`") from None

    async def _request(self, method: str, path: str, body: Any, ok: tuple[int, ...]) -> Any:
        assert self.session is not None
        async with self.session.request(method, self.gateway + path, json=body) as response:
            answer = await response.json(content_type=None) if response.status != 204 else None
            if response.status not in ok:
                raise CommandError(describe_error(answer, response.status))
            return answer

    def events_url(self, run_id: str) -> str:
        return self.gateway.replace("http", "ws", 1) + f"/v1/runs/{run_id}/events"


def describe_error(answer: Any, status: int) -> str:
    error = answer.get("error", {}) if isinstance(answer, dict) else {}
    lines = [f"the gateway refused (HTTP {status}): {error.get('message', answer)}"]
    lines += [f"  - {field['field']}: {field['reason']}" for field in error.get("fields", [])]
    if status == 401:
        lines.append("  (set AUTOMATEOS_TOKEN, or run where `make up` wrote AUTOMATEOS_ADMIN_TOKEN into .env)")
    return "\n".join(lines)
