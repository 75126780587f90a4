"""Hypothesis strategies made from the JSON Schemas we publish (schemas/json/), and the settings fuzz tests run with.

hypothesis-jsonschema rebuilds a property's strategy every time it draws one, so a schema whose `$ref`s nest (a
graph: nodes, node data, settings, retry policy) costs about half a second per example. Here each `$defs` entry is
turned into a strategy once: a level is generated with its `$ref`s stubbed as constants, then each stub is replaced
by a draw from the referenced definition's own (cached) strategy. What comes out is what the schema allows.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_from_bytes

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import schemas

SCHEMA_DIR = Path(schemas.__file__).parent / "json"

# `make test` runs the ci profile: bounded, and the same examples on every machine (derandomized). Shrinking is
# left out because every step of it is a real request to the stack; a failure's message carries the request.
# AUTOMATEOS_FUZZ=deep explores more, with new examples each run, and shrinks what fails.
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, database=None, print_blob=False,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=400, derandomize=False,
                          phases=(Phase.explicit, Phase.generate, Phase.shrink))


def fuzz_settings(scale: float = 1.0) -> settings:
    """The profile chosen by AUTOMATEOS_FUZZ (default ci), with `scale` times its examples."""
    profile = settings.get_profile(os.environ.get("AUTOMATEOS_FUZZ", "ci"))
    return settings(profile, max_examples=max(1, round(profile.max_examples * scale)))


@cache
def published(name: str) -> dict[str, Any]:
    """A published schema, without its relative `$id` (jsonschema's resolver would look `$defs` up under it)."""
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    schema.pop("$id", None)
    return schema


_REF = "#/$defs/"
_STUB = "\x00$ref:"


def from_published(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Every value `schema` (with local `$defs`) allows, as hypothesis-jsonschema generates them."""
    defs: dict[str, Any] = schema.get("$defs", {})
    built: dict[str, st.SearchStrategy[Any]] = {}

    def definition(name: str) -> st.SearchStrategy[Any]:
        if name not in built:
            built[name] = st.deferred(lambda: level(defs[name]))
        return built[name]

    def stubbed(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                return {"const": _STUB + ref.removeprefix(_REF)}
            return {k: stubbed(v) for k, v in node.items() if k not in ("$defs", "$schema", "$id")}
        if isinstance(node, list):
            return [stubbed(v) for v in node]
        return node

    def level(part: dict[str, Any]) -> st.SearchStrategy[Any]:
        shallow = from_schema(stubbed(part))

        @st.composite
        def filled(draw: st.DrawFn) -> Any:
            def fill(value: Any) -> Any:
                if isinstance(value, str) and value.startswith(_STUB):
                    return draw(definition(value.removeprefix(_STUB)))
                if isinstance(value, dict):
                    return {k: fill(v) for k, v in value.items()}
                if isinstance(value, list):
                    return [fill(v) for v in value]
                return value

            return fill(draw(shallow))

        return filled()

    return level(schema)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON document."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                        max_leaves=max_leaves)


# -- builder graphs that get past the schema: real node types with configs from the published catalogue ---------

UNREACHABLE_URL = "http://127.0.0.1:1/fuzz"  # refused at once: no run waits on the network


@cache
def _catalogue() -> dict[str, Any]:
    return published("node-types")


def node_config(node_type: str) -> st.SearchStrategy[dict[str, Any]]:
    info = next(t for t in _catalogue()["nodeTypes"] if t["type"] == node_type)
    config: st.SearchStrategy[dict[str, Any]] = from_published(info["configSchema"])
    if "url" in info["configSchema"].get("properties", {}):
        config = config.map(lambda c: {**c, "url": UNREACHABLE_URL})
    return config


@st.composite
def runnable_graphs(draw: st.DrawFn) -> dict[str, Any]:
    """A trigger and up to four nodes of the registered types, chained, each config drawn from its published
    schema (HTTP nodes aimed at a closed local port): these reach the compiler, and some of them run."""
    types = [t for t in _catalogue()["nodeTypes"]]
    triggers = [t["type"] for t in types if t["kind"] == "trigger"]
    others = [t["type"] for t in types if t["kind"] != "trigger"]
    chosen = [draw(st.sampled_from(triggers))] + draw(st.lists(st.sampled_from(others), max_size=4))
    nodes, edges = [], []
    for index, node_type in enumerate(chosen):
        data: dict[str, Any] = {"label": node_type, "config": draw(node_config(node_type))}
        if draw(st.booleans()):
            data["settings"] = draw(from_published(_catalogue()["settingsSchema"]))
        nodes.append({"id": f"n{index}", "type": node_type, "position": {"x": index * 200, "y": 0}, "data": data})
        if index:
            edge: dict[str, Any] = {"id": f"e{index}", "source": f"n{index - 1}", "target": f"n{index}"}
            handle = draw(st.none() | st.sampled_from(["out", "true", "false", "default"]) | st.text(max_size=8))
            if handle is not None:
                edge["sourceHandle"] = handle
            edges.append(edge)
    return {"meta": {"name": draw(st.text(max_size=40))}, "nodes": nodes, "edges": edges}


# -- path and query parts ------------------------------------------------------------------------------------

_ODD_SEGMENTS = [".", "..", "%", "%zz", "%00", "%C3%28", "%FF%FE", "a%2Fb", "%2e%2e", "..%2F..", "x" * 300,
                 "%20", "~", "a.b", "a..b", ".x", "-", "_", "0", "1" * 30]


def path_segments(known: list[str]) -> st.SearchStrategy[str]:
    """A path segment, already percent-encoded: one of `known` (ids that exist), or anything at all."""
    return st.one_of(
        st.sampled_from(known).map(lambda text: quote(text, safe="")),
        st.text(max_size=80).map(lambda text: quote(text, safe="")),
        st.binary(max_size=40).map(lambda raw: quote_from_bytes(raw, safe="")),
        st.sampled_from(_ODD_SEGMENTS),
    )


def query_strings(names: list[str], values: list[str]) -> st.SearchStrategy[str]:
    """Query strings over `names` (and other names), with `values` (and anything else), repeats included."""
    value = st.one_of(st.sampled_from(values), st.text(max_size=40), st.integers().map(str),
                      st.sampled_from(["", "0", "-1", "1e3", "1.5", "99999999999999999999", " 1", "0x10", "٣"]))
    pair = st.tuples(st.sampled_from(names) | st.text(max_size=10), value)
    encoded = st.lists(pair, max_size=5).map(
        lambda pairs: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs))
    raw = st.binary(max_size=60).map(lambda b: quote_from_bytes(b, safe="=&"))
    return encoded | raw
