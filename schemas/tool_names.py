"""How a workflow (or any tool) is named when it is offered to a model or an MCP client as a function tool.

Here because two actors apply it: the gateway's MCP server names exposed workflows, and the engine names an agent
step's tools; actors share only `schemas/`. OpenAI and MCP clients accept letters, digits, _ and -, at most 64."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")
NAME_CHARS = 64


def tool_names(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Tool name → key, for (key, name) pairs: each name as letters, digits and _; two entries of the same name both
    get their key's end too, so a name never moves from one entry to another as others come and go."""
    listed = list(entries)
    slugs = {key: (_NOT_IN_NAME.sub("_", name).strip("_").lower() or "workflow")[:NAME_CHARS] for key, name in listed}
    taken: dict[str, int] = {}
    for slug in slugs.values():
        taken[slug] = taken.get(slug, 0) + 1
    named: dict[str, str] = {}
    for key, _ in listed:
        slug = slugs[key]
        tail = _NOT_IN_NAME.sub("_", key)[-8:]
        named[slug if taken[slug] == 1 else f"{slug[:NAME_CHARS - 9]}_{tail}"] = key
    return named
