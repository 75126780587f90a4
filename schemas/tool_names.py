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
    get their key's end too, so a name never moves from one entry to another as others come and go. A suffixed name
    never takes one that is already a name (found by the security review: "refund 22222222" shadowed the second
    "Refund"): the key's end grows until it is free."""
    listed = sorted(entries)
    slugs = {key: (_NOT_IN_NAME.sub("_", name).strip("_").lower() or "workflow")[:NAME_CHARS] for key, name in listed}
    taken: dict[str, int] = {}
    for slug in slugs.values():
        taken[slug] = taken.get(slug, 0) + 1
    named = {slugs[key]: key for key, _ in listed if taken[slugs[key]] == 1}
    for key, _ in listed:
        slug = slugs[key]
        if taken[slug] == 1:
            continue
        tail = _NOT_IN_NAME.sub("_", key)
        for length in (8, 12, 16, 24, len(tail)):
            candidate = f"{slug[:NAME_CHARS - length - 1]}_{tail[-length:]}"
            if candidate not in named:
                break
        else:  # keys are unique, so only a long one cut short could still clash
            candidate = f"{slug[:NAME_CHARS - 12]}_{len(named):011d}"
        named[candidate] = key
    return named
