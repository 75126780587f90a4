"""n8n expressions and Node-RED message properties, translated to our `{{ }}` templates where they mean the same.

What a reference reads is a `Source`: the template base a source node's output is known by here
(`payload` after a webhook, `steps.<id>.output.body` after an HTTP step, `loop.item` inside a loop). A reference to
anything without a known base, or an expression that is more than one reference and a path, is kept as written and
reported for review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Source:
    base: str
    keys: frozenset[str] | None = None  # when set, the first key of a path must be one of these to mean the same


Resolver = Callable[[str | None], Source | None]  # a node name (None: this node's input) → its Source

_Q = r"""(?:'[^']*'|"[^"]*")"""
_PATH = r"""(?P<path>(?:\s*\.\s*[A-Za-z_$][\w$]*|\s*\[\s*(?:'[^']*'|"[^"]*"|\d+)\s*\])*)"""
_ITEM = r"""\s*\.\s*(?:item|first\(\s*\)|last\(\s*\)|all\(\s*\)\s*\[\s*0\s*\])"""
_N8N_REFERENCE = re.compile(
    r"^\s*(?:"
    r"(?P<input>\$json|\$input" + _ITEM + r"\s*\.\s*json)"
    r"|\$\(\s*(?P<n1>" + _Q + r")\s*\)" + _ITEM + r"\s*\.\s*json"
    r"|\$node\s*\[\s*(?P<n2>" + _Q + r")\s*\]\s*\.\s*json"
    r"|\$items\(\s*(?P<n3>" + _Q + r")\s*\)\s*\[\s*0\s*\]\s*\.\s*json"
    r")" + _PATH + r"\s*$", re.S)
_PATH_PART = re.compile(r"""\.\s*([A-Za-z_$][\w$]*)|\[\s*('[^']*'|"[^"]*"|\d+)\s*\]""")
_CHUNK = re.compile(r"\{\{(.*?)\}\}", re.S)


def path_parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, bracket in _PATH_PART.findall(path):
        if name:
            parts.append(name)
        elif bracket.isdigit():
            parts.append(int(bracket))
        else:
            parts.append(bracket[1:-1])
    return parts


def jinja_path(base: str, parts: list[str | int]) -> str:
    text = base
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENT.match(part):
            text += f".{part}"
        else:
            text += "[" + json.dumps(part) + "]"
    return text


def on_source(source: Source | None, parts: list[str | int]) -> str | None:
    if source is None:
        return None
    if source.keys is not None and (not parts or parts[0] not in source.keys):
        return None
    return jinja_path(source.base, parts)


def n8n_reference(expression: str, resolve: Resolver) -> str | None:
    """One n8n reference and a path (`$json.a`, `$('Node').item.json.a`, `$node["Node"].json["a"]`) as our
    expression, or None when it is anything else or reads what has no counterpart."""
    match = _N8N_REFERENCE.match(expression)
    if match is None:
        return None
    quoted = match.group("n1") or match.group("n2") or match.group("n3")
    source = resolve(None if quoted is None else quoted[1:-1])
    return on_source(source, path_parts(match.group("path")))


@dataclass
class Translated:
    value: Any
    problems: list[str]


def n8n_value(value: Any, resolve: Resolver) -> Translated:
    """A parameter value: a string starting with `=` is an n8n expression, its `{{ }}` parts translated one by one;
    lists and objects are translated inside. What does not translate is kept as written and named in problems."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        problems: list[str] = []
        for key, item in value.items():
            done = n8n_value(item, resolve)
            out[str(key)] = done.value
            problems += done.problems
        return Translated(out, problems)
    if isinstance(value, list):
        items = [n8n_value(item, resolve) for item in value]
        return Translated([t.value for t in items], [p for t in items for p in t.problems])
    if not isinstance(value, str) or not value.startswith("="):
        if isinstance(value, str) and "{{" in value:
            return Translated(value, [f"literal text with {{{{ }}}} is read as a template here: {value[:200]}"])
        return Translated(value, [])
    text = value[1:]
    problems = []

    def chunk(match: re.Match[str]) -> str:
        translated = n8n_reference(match.group(1), resolve)
        if translated is None:
            problems.append(f"expression kept as written, check it: {{{{{match.group(1).strip()[:300]}}}}}")
            return "{{ " + match.group(1).strip() + " }}"
        return "{{ " + translated + " }}"

    return Translated(_CHUNK.sub(chunk, text), problems)


def n8n_operand(value: Any, resolve: Resolver) -> Translated:
    """A value in a condition, as a bare expression: an `={{ }}` reference translated, a literal as a literal."""
    if isinstance(value, str) and value.startswith("="):
        whole = re.fullmatch(r"\s*\{\{(.*)\}\}\s*", value[1:], re.S)
        if whole is not None:
            translated = n8n_reference(whole.group(1), resolve)
            if translated is not None:
                return Translated(translated, [])
            inner = whole.group(1).strip()
            return Translated(f"({inner})", [f"expression kept as written, check it: {{{{{inner[:300]}}}}}"])
        if "{{" not in value:
            return Translated(literal(value[1:]), [])
        return Translated(literal(value[1:]), [f"text with expressions inside a condition, kept as text: {value[:300]}"])
    return Translated(literal(value), [])


def literal(value: Any) -> str:
    if value is None:
        return "none"
    return json.dumps(value)


# ---- Node-RED: msg.<path>, and {{ }} / {{{ }}} mustache in templates and URLs
_MUSTACHE = re.compile(r"\{\{\{?\s*([^{}]+?)\s*\}?\}\}")


def msg_property(path: str, resolve: Resolver) -> str | None:
    """`payload.a.b` (a msg property) as our expression, or None: only msg.payload has a counterpart, the output
    of the step that made it (resolve(None))."""
    parts = path_parts("." + path.strip()) if path.strip() else []
    if not parts or parts[0] != "payload":
        return None
    return on_source(resolve(None), parts[1:])


def mustache(text: str, resolve: Resolver) -> Translated:
    problems: list[str] = []

    def chunk(match: re.Match[str]) -> str:
        name = match.group(1)
        name = name[4:] if name.startswith("msg.") else name
        translated = msg_property(name, resolve) if re.fullmatch(r"[A-Za-z_][\w.]*", name) else None
        if translated is None:
            problems.append(f"placeholder kept as written, check it: {match.group(0)}")
            return "{{ " + name + " }}"
        return "{{ " + translated + " }}"

    return Translated(_MUSTACHE.sub(chunk, text), problems)
