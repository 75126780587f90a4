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
_MAX_REPEAT = 10_000
_MAX_EXPONENT = 100


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no Python internals, no I/O) that also refuses to build huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and count > _MAX_REPEAT:
                    raise SecurityError(f"repeating a value more than {_MAX_REPEAT} times is not allowed")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"exponents above {_MAX_EXPONENT} are not allowed")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data is JSON: `body.items` means the key "items", never dict.items. Methods stay out of reach.
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


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

        self.variables: dict[str, Any] = {
            key: value for key, value in inputs.items() if key not in _RESERVED and key.isidentifier()
        }
        self.variables.update(inputs=dict(inputs), steps=dict(steps), getCredential=get_credential)
        if "payload" in inputs:
            self.variables["payload"] = inputs["payload"]

    def text(self, template: str, where: str) -> str:
        if "{{" not in template and "{%" not in template:
            return template
        return str(self._guard(lambda: _ENV.from_string(template).render(self.variables), template, where))

    def value(self, value: Any, where: str) -> Any:
        """JSON values: a string that is one whole `{{ expr }}` keeps the expression's own type (a list stays a list)."""
        if isinstance(value, dict):
            return {k: self.value(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and (whole := _WHOLE.match(value)):
            result = self._guard(lambda: _ENV.compile_expression(whole.group(1), undefined_to_none=False)(**self.variables),
                                 value, where)
            if isinstance(result, StrictUndefined):
                str(result)  # raises, named by _guard below
            return result if isinstance(result, (str, int, float, bool, list, dict, type(None))) else str(result)
        if isinstance(value, str):
            return self.text(value, where)
        return value

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
            raise StepFailed(f"the template in {where} failed: {type(error).__name__}: {error}") from None

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


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
