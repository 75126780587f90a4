"""`automateos import FILE [--save]` against a real stack: the report node by node, then saved as a new workflow."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.gateway.test_rest_api import request
from tests.imports import documents
from tests.support.stack import Stack
from tests.test_cli import automateos


async def test_import_prints_the_report_and_saves_on_request(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "AUTOMATEOS_TOKEN": stack.admin_token, "AUTOMATEOS_ADMIN_TOKEN": ""}
    gateway = ["--gateway", stack.base_url]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(documents.n8n_everything()))

    code, output = await automateos("import", str(path), *gateway, env=env)
    assert code == 0, output
    assert "Orders (n8n) (n8n): 9 converted, 5 to review, 0 unsupported" in output
    assert "! New API [n8n-nodes-base.httpRequest] → new_api: review" in output
    assert "✓ Note [n8n-nodes-base.stickyNote] (dropped): converted" in output
    assert "not saved" in output
    listed = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]
    assert not any(w["name"] == "Orders (n8n)" for w in listed)

    code, output = await automateos("import", str(path), "--save", *gateway, env=env)
    assert code == 0 and "✓ saved 'Orders (n8n)' as " in output, output
    listed = (await request(stack, "GET", "/v1/workflows"))[1]["workflows"]
    assert [w["version"] for w in listed if w["name"] == "Orders (n8n)"] == [1]

    path.write_text(json.dumps({"what": "not a workflow"}))
    code, output = await automateos("import", str(path), *gateway, env=env)
    assert code == 2 and "HTTP 422" in output and "document: is not a workflow" in output, output
