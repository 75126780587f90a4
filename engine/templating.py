"""`{{ … }}` in node configs, rendered in a sandbox just before the request.

Variables: `inputs`, `payload` (inputs.payload), each top-level input by name, `steps.<nodeId>.output…`
(upstream outputs), and `getCredential('name')`. A missing variable fails the step, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .errors import StepFailed

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_WHOLE = re.compile(r"^\s*\{\{((?:(?!\}\}).)*)\}\}\s*$", re.S)
_RESERVED = {"inputs", "payload", "steps", "getCredential"}
# Templates fill in values; they are not programs. These bounds keep a template from exhausting a worker
# that runs 64 steps at once: no statements (so no loops), short sources, and no value over MAX_VALUE.
MAX_TEMPLATE_CHARS = 8_192
MAX_VALUE = 256 * 1024
_MAX_INT_BITS = 4_096
_FILTERS = {
    "abs", "capitalize", "default", "d", "first", "float", "int", "join", "last", "length", "lower",
    "max", "min", "replace", "round", "string", "sum", "title", "tojson", "trim", "truncate",
    "upper", "urlencode", "count",
}
_STRING_METHODS = {
    "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "startswith", "endswith", "split",
    "isdigit", "isalpha", "isalnum",
}


def _too_big(value: Any) -> bool:
    if isinstance(value, (str, bytes, list, tuple, dict)):
        return len(value) > MAX_VALUE
    return isinstance(value, int) and value.bit_length() > _MAX_INT_BITS


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no Python internals, no I/O), narrowed: no statements, a few filters and string
    methods, and no value larger than MAX_VALUE, checked before it is built where it could be huge."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%":
            raise SecurityError("% formatting is not available; join values with ~")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if isinstance(sized, (str, list, tuple)) and isinstance(count, int) and len(sized) * count > MAX_VALUE:
                    raise SecurityError(f"the result would be larger than {MAX_VALUE // 1024} KiB")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if abs(left).bit_length() * right > _MAX_INT_BITS:
                raise SecurityError("the number would be too large")
        result = super().call_binop(context, operator, left, right)
        if _too_big(result):
            raise SecurityError(f"the result would be larger than {MAX_VALUE // 1024} KiB")
        return result

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is not on the allowlist: refuse it like any other method

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str):
            return attr in _STRING_METHODS and super().is_safe_attribute(obj, attr, value)
        if isinstance(obj, (int, float, list, tuple, bytes)):
            return False  # no methods: data is read, not transformed in place
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data is JSON: `body.items` means the key "items", never dict.items. Methods stay out of reach.
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _join(value: Any, separator: str = "") -> str:
    items = [str(item) for item in value]
    if sum(map(len, items)) + len(separator) * max(len(items) - 1, 0) > MAX_VALUE:
        raise SecurityError(f"the result would be larger than {MAX_VALUE // 1024} KiB")
    return separator.join(items)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    if old == "":
        raise SecurityError("replace needs a non-empty text to replace")
    if len(text) + text.count(old) * max(len(new) - len(old), 0) > MAX_VALUE:
        raise SecurityError(f"the result would be larger than {MAX_VALUE // 1024} KiB")
    return text.replace(old, new, -1 if count is None else count)


def _fixed(value: Any, decimals: int = 2) -> str:
    """`{{ 4200 / 100 | fixed(2) }}` → "42.00": money and measurements, without %-formatting's open-ended widths."""
    if not isinstance(decimals, int) or not 0 <= decimals <= 12:
        raise SecurityError("fixed takes 0 to 12 decimals")
    return f"{float(value):.{decimals}f}"


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENV.filters = {name: f for name, f in _ENV.filters.items() if name in _FILTERS}
_ENV.filters |= {"join": _join, "replace": _replace, "fixed": _fixed}
_ENV.globals = {}


def has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


def credential_names(value: Any) -> set[str]:
    """Names passed to getCredential('…') anywhere in `value` (strings, dicts, lists)."""
    found: set[str] = set()
    for text in _strings(value):
        if "getCredential" not in text:
            continue
        try:
            tree = _ENV.parse(text)
        except TemplateSyntaxError:
            continue  # reported when rendered
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "getCredential":
                if len(call.args) == 1 and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str):
                    found.add(call.args[0].value)
                else:
                    raise StepFailed("getCredential takes one quoted name, as in getCredential('notionToken')")
    return found


class Renderer:
    """Renders the strings of one step's config against that step's variables."""

    def __init__(self, inputs: Mapping[str, Any], steps: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        def get_credential(name: str) -> str:
            if name not in credentials:
                raise StepFailed(f"credential '{name}' is not defined")
            return credentials[name]

        self.has_credentials = bool(credentials)
        self.variables: dict[str, Any] = {
            key: value for key, value in inputs.items() if key not in _RESERVED and key.isidentifier()
        }
        self.variables.update(inputs=dict(inputs), steps=dict(steps), getCredential=get_credential)
        if "payload" in inputs:
            self.variables["payload"] = inputs["payload"]

    def text(self, template: str, where: str) -> str:
        if "{{" not in template and "{%" not in template and "{#" not in template:
            return template
        _check_source(template, where)
        rendered = str(self._guard(lambda: _ENV.from_string(template).render(self.variables), template, where))
        if len(rendered) > MAX_VALUE:
            raise StepFailed(f"the template in {where} produced more than {MAX_VALUE // 1024} KiB")
        return rendered

    def value(self, value: Any, where: str) -> Any:
        """JSON values: a string that is one whole `{{ expr }}` keeps the expression's own type (a list stays a list)."""
        if isinstance(value, dict):
            return {k: self.value(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and (whole := _WHOLE.match(value)):
            _check_source(value, where)
            result = self._guard(lambda: _ENV.compile_expression(whole.group(1), undefined_to_none=False)(**self.variables),
                                 value, where)
            if isinstance(result, StrictUndefined):
                str(result)  # raises, named by _guard below
            return result if isinstance(result, (str, int, float, bool, list, dict, type(None))) else str(result)
        if isinstance(value, str):
            return self.text(value, where)
        return value

    def expression(self, source: str, where: str) -> Any:
        """A condition is one expression, written with or without braces: `amount > 500`, `{{ amount > 500 }}`,
        or, as Insert variable leaves it, `{{ amount }} > 500`. Each `{{ x }}` inside is read as `(x)`, so
        `{{ a > 1 }} and {{ b > 1 }}` means what it says instead of the always-true text "False and False"."""
        if _WHOLE.match(source):
            return self.value(source, where)
        return self.value("{{ " + _EXPRESSION.sub(lambda m: f"({m.group(1)})", source) + " }}", where)

    def _guard(self, render: Callable[[], Any], template: str, where: str) -> Any:
        try:
            result = render()
            if isinstance(result, StrictUndefined):
                str(result)
            return result
        except StepFailed:
            raise
        except UndefinedError:
            name = self._undefined_in(template)
            shown = f"'{name}'" if name else "in the template"
            raise StepFailed(f"template variable {shown} is not defined (in {where})") from None
        except SecurityError as error:
            raise StepFailed(f"the template in {where} is not allowed: {error}") from None
        except TemplateSyntaxError as error:
            raise StepFailed(f"template syntax error in {where}: {error.message}") from None
        except Exception as error:  # a template's own error (1/0, a bad filter argument): the step's fault
            # Its message may quote a value, perhaps a credential's: with credentials in play, name the kind only.
            detail = f": {error}" if not self.has_credentials else ""
            raise StepFailed(f"the template in {where} failed: {type(error).__name__}{detail}") from None

    def _undefined_in(self, template: str) -> str | None:
        for match in _EXPRESSION.finditer(template):
            expression = match.group(1).strip()
            try:
                result = _ENV.compile_expression(expression, undefined_to_none=False)(**self.variables)
                str(result)
            except UndefinedError:
                return expression
            except Exception:  # noqa: S112 - another kind of error: keep looking for the undefined one
                continue
        return None


def _check_source(template: str, where: str) -> None:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise StepFailed(f"the template in {where} is longer than {MAX_TEMPLATE_CHARS} characters")
    if "{%" in template or "{#" in template:
        raise StepFailed(f"the template in {where} uses {{% %}} or {{# #}}: only {{{{ expressions }}}} are available")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
