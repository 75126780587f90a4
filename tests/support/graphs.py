"""Builder graphs for tests, written as a user draws them: nodes, edges with handles, settings."""

from __future__ import annotations

from typing import Any


def node(node_id: str, node_type: str, label: str | None = None, settings: dict[str, Any] | None = None,
         **config: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"label": label or node_id, "config": config}
    if settings is not None:
        data["settings"] = settings
    return {"id": node_id, "type": node_type, "position": {"x": 0, "y": 0}, "data": data}


def http(node_id: str, url: str, method: str = "POST", settings: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    return node(node_id, "http", settings=settings, method=method, url=url, **config)


def edge(source: str, target: str, handle: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": f"e-{source}-{target}-{handle or 'out'}", "source": source, "target": target}
    if handle is not None:
        found["sourceHandle"] = handle
    return found


def graph(*nodes: dict[str, Any], edges: list[dict[str, Any]], name: str = "Test workflow") -> dict[str, Any]:
    return {"meta": {"name": name}, "nodes": [node("start", "start", "Start"), *nodes], "edges": edges}


def steps_by_id(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in record["steps"]}
