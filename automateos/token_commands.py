"""`automateos tokens create|list|revoke`: API tokens, through the gateway, as an admin."""

from __future__ import annotations

import sys
from typing import TextIO

from .api_client import ApiClient
from .interrupt import pending


async def create_token(gateway: str, token: str | None, name: str, role: str, out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        with pending(f"token {name!r} may have been made, never to be shown: `automateos tokens revoke {name}`"):
            created = await client.call("POST", "/v1/tokens", {"name": name, "role": role}, ok=(201,))
    print(f"✓ token {created['name']} ({created['role']}); it is shown this once, so keep it now:", file=out)
    print(created["token"], file=out, flush=True)
    return 0


async def list_tokens(gateway: str, token: str | None, out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        listing = await client.call("GET", "/v1/tokens")
    print(f"{'NAME':<32} {'ROLE':<8} CREATED", file=out)
    print(f"{'admin':<32} {'admin':<8} (AUTOMATEOS_ADMIN_TOKEN)", file=out)
    for item in listing["tokens"]:
        print(f"{item['name']:<32} {item['role']:<8} {item['createdAt']}", file=out)
    for name in listing.get("unreadable", []):
        print(f"{name:<32} {'-':<8} (its stored record is damaged: it grants nothing; `automateos tokens revoke {name}`)",
              file=out)
    return 0


async def revoke_token(gateway: str, token: str | None, name: str, out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        await client.call("DELETE", f"/v1/tokens/{name}", ok=(204,))
    print(f"✓ revoked token {name}", file=out)
    return 0
