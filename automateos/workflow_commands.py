"""`automateos workflows list|push FILE|run NAME`: the saved workflows, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .api_client import ApiClient, CommandError
from .run_command import check_inputs, follow, submit


def _name_of(document: dict[str, Any], path: Path) -> str:
    for key in ("meta", "metadata"):
        meta = document.get(key)
        if isinstance(meta, dict) and isinstance(meta.get("name"), str):
            return str(meta["name"])
    return str(document.get("name") or path.stem)


async def _all_workflows(client: ApiClient) -> list[dict[str, Any]]:
    """Every saved workflow, most recently changed first: the list comes a page at a time."""
    found: list[dict[str, Any]] = []
    before = None
    while True:
        page = await client.call("GET", "/v1/workflows?limit=1000" + (f"&before={before}" if before else ""))
        found += page["workflows"]
        before = page.get("next")
        if not before:
            return found


async def _find(client: ApiClient, name_or_id: str) -> dict[str, Any] | None:
    matches = [w for w in await _all_workflows(client) if name_or_id in (w["id"], w["name"])]
    if len(matches) > 1:
        ids = ", ".join(w["id"] for w in matches)
        raise CommandError(f"{len(matches)} workflows are named {name_or_id!r} ({ids}); name one by its id")
    return matches[0] if matches else None


async def list_workflows(gateway: str, token: str | None, out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        rows = await _all_workflows(client)
    if not rows:
        print("no saved workflows yet: `automateos workflows push FILE` saves one", file=out)
        return 0
    print(f"{'ID':<22} {'NAME':<32} {'VERSION':>7}  {'ACTIVE':<10} TRIGGERS", file=out)
    for w in rows:
        active = f"v{w['activeVersion']}" if w["active"] else "no"
        triggers = ", ".join(t["type"] + (f" {t['url']}" if t.get("url") else "") for t in w["triggers"])
        print(f"{w['id']:<22} {w['name'][:32]:<32} {w['version']:>7}  {active:<10} {triggers}", file=out)
    return 0


async def push_workflow(gateway: str, token: str | None, path: Path, out: TextIO = sys.stdout) -> int:
    """Save FILE as a new workflow, or as the next version of the workflow with its name."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise CommandError(f"{path} does not hold a JSON object")
    name = _name_of(document, path)
    async with ApiClient(gateway, token) as client:
        existing = await _find(client, name)
        if existing is None:
            saved = await client.call("POST", "/v1/workflows", {"name": name, "graph": document}, ok=(201,))
            print(f"✓ saved {name!r} as {saved['id']}, version 1", file=out)
        else:
            body = {"graph": document, "baseVersion": existing["version"]}
            saved = await client.call("PUT", f"/v1/workflows/{existing['id']}", body)
            print(f"✓ saved {name!r} ({saved['id']}) as version {saved['version']}", file=out)
    if not saved["active"]:
        print(f"  not active: activate it in the builder, or POST {gateway}/v1/workflows/{saved['id']}/activate",
              file=out)
    return 0


async def run_saved(gateway: str, token: str | None, name_or_id: str, inputs: dict[str, Any],
                    out: TextIO = sys.stdout) -> int:
    async with ApiClient(gateway, token) as client:
        found = await _find(client, name_or_id)
        if found is None:
            raise CommandError(f"no saved workflow named {name_or_id!r}; `automateos workflows list` shows them")
        view = await client.call("GET", f"/v1/workflows/{found['id']}")
        check_inputs(view["graph"], inputs)
        answer = await submit(client, {"workflowId": found["id"], "inputs": inputs})
        return await follow(client, answer["runId"], out)
