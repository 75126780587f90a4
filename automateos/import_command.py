"""`automateos import FILE [--save]`: convert an n8n workflow, a Node-RED flow or an AutomateOS export through the
gateway (POST /v1/import), print the report node by node, and with --save keep it as a new workflow."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .api_client import ApiClient, CommandError

_MARK = {"converted": "✓", "review": "!", "unsupported": "✗"}


def print_report(answer: dict[str, Any], out: TextIO) -> None:
    report = answer["report"]
    print(f"{answer['name']} ({answer['source']}): {report['converted']} converted, {report['review']} to review, "
          f"{report['unsupported']} unsupported", file=out)
    for node in report["nodes"]:
        source = node["from"]
        became = f" → {node['id']}" if node["id"] else " (dropped)"
        print(f"  {_MARK.get(node['status'], '?')} {source['name']} [{source['type']}]{became}: {node['status']}",
              file=out)
        for note in node["notes"]:
            print(f"      - {note}", file=out)


async def import_file(gateway: str, token: str | None, path: Path, save: bool, source: str | None = None,
                      out: TextIO = sys.stdout) -> int:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from None
    body: dict[str, Any] = {"document": document} | ({"source": source} if source else {})
    async with ApiClient(gateway, token) as client:
        answer = await client.call("POST", "/v1/import", body, ok=(200,))
        print_report(answer, out)
        if not save:
            print("  not saved: add --save to keep it as a new workflow", file=out)
            return 0
        saved = await client.call("POST", "/v1/workflows", {"name": answer["name"], "graph": answer["graph"]},
                                  ok=(201,))
    print(f"✓ saved {answer['name']!r} as {saved['id']}, version 1", file=out)
    if answer["report"]["review"] or answer["report"]["unsupported"]:
        print("  review the steps marked ! and ✗ in the builder before running it", file=out)
    return 0
