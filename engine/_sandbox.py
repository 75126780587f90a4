"""The Jinja environment templates render in: Jinja's sandbox (no Python internals, no I/O), narrowed further.

Templates fill in values; they are not programs, and one worker runs 64 steps at once. So: no statements (so no
loops), a few filters and string methods, and no value over MAX_VALUE bytes however it is built (`*`, `+`, `~`,
a filter, a method, or text around it), measured before it is built wherever it could be huge.

A credential is a `Secret`: it can be placed as it is, and nothing else. A changed form of it (upper-cased,
reversed, sliced) is one the scrubber cannot recognise, so none is ever made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, cast

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import htmlsafe_json_dumps

from .limits import size_in_bytes, utf8_length

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


def secret_refused(name: str | None) -> str:
    call = f"getCredential({name!r})" if name is not None else "getCredential(…)"
    return (f"{call} can only be placed as it is (alone in {{{{ }}}}, or joined with ~); filters, methods, slices, "
            "arithmetic and comparisons on a secret are refused")


class Secret:
    """What getCredential('name') gives a template. str() is its value: that is what placing it in text, or
    joining it with ~, does. Everything else the sandbox refuses, and slicing (which Jinja does not route
    through the sandbox) this class refuses itself."""

    __slots__ = ("_name", "_value")

    def __init__(self, name: str, value: str) -> None:
        self._name = name
        self._value = value

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:  # what an error message or str() of a list would show: never the value
        return f"getCredential({self._name!r})"

    def refused(self) -> SecurityError:
        return SecurityError(secret_refused(self._name))

    def __getitem__(self, key: object) -> NoReturn:
        raise self.refused()

    def __iter__(self) -> NoReturn:
        raise self.refused()


def _refuse_secrets(values: Iterable[Any]) -> None:
    for value in values:
        if isinstance(value, Secret):
            raise value.refused()


def too_big() -> SecurityError:
    return SecurityError(f"the value would be larger than {MAX_VALUE // 1024} KiB")


def bounded(value: Any) -> Any:
    """`value`, if it is at most MAX_VALUE bytes written out."""
    if size_in_bytes(value, MAX_VALUE) > MAX_VALUE:
        raise too_big()
    return value


def _repeated_size(sized: str | list[Any] | tuple[Any, ...], count: int) -> int:
    """The size of `sized * count`, from the size of `sized`: a list's brackets are written once, not per copy."""
    one = size_in_bytes(sized, MAX_VALUE)
    return one * count if isinstance(sized, str) else 1 + (one - 1) * count


class _Compiler(CodeGenerator):
    """`a ~ b` is joined by the environment, which can measure the parts first (Jinja's own join cannot)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_parts((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(SandboxedEnvironment):
    """Every operator, lookup and call passes through here (filters are wrapped in _checked): a secret is
    refused in any of them, and none may build a value over MAX_VALUE bytes."""

    code_generator_class = _Compiler
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _refuse_secrets((left, right))
        if operator == "%":
            raise SecurityError("% formatting is not available; join values with ~")
        sequences = (str, list, tuple)
        if operator == "*" and any(isinstance(sized, sequences) and isinstance(count, int) and count > 1
                                   and _repeated_size(sized, count) > MAX_VALUE
                                   for sized, count in ((left, right), (right, left))):
            raise too_big()
        if (operator == "+" and isinstance(left, sequences) and isinstance(right, sequences)
                and size_in_bytes(left, MAX_VALUE) + size_in_bytes(right, MAX_VALUE) > MAX_VALUE):
            raise too_big()
        if (operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
                and abs(left).bit_length() * right > _MAX_INT_BITS):
            raise SecurityError("the number would be too large")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int) and result.bit_length() > _MAX_INT_BITS:
            raise SecurityError("the number would be too large")
        return bounded(result)

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        _refuse_secrets((arg,))
        return super().call_unop(context, operator, arg)

    def concat_parts(self, parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ c`, each part measured before any is written out (a secret is placed here, as its value)."""
        budget = MAX_VALUE
        for part in parts:
            budget -= utf8_length(str(part)) if isinstance(part, Secret) else size_in_bytes(part, budget)
            if budget < 0:
                raise too_big()
        return "".join(map(str, parts))

    def concat(self, pieces: Iterable[str]) -> str:
        """The text a template renders to, piece by piece, stopped as soon as it passes MAX_VALUE bytes."""
        kept: list[str] = []
        size = 0
        for piece in pieces:
            size += utf8_length(piece)
            if size > MAX_VALUE:
                raise too_big()
            kept.append(piece)
        return "".join(kept)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _refuse_secrets((obj, *args, *kwargs.values()))
        return bounded(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is not on the allowlist: refuse it like any other method

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str):
            return attr in _STRING_METHODS and super().is_safe_attribute(obj, attr, value)
        if isinstance(obj, (int, float, list, tuple, bytes)):
            return False  # no methods: data is read, not transformed in place
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Secret):
            raise obj.refused()
        # Data is JSON: `body.items` means the key "items", never dict.items. Methods stay out of reach.
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _refuse_secrets((obj, argument))  # `payload[getCredential('x')]` would tell what the secret is
        return super().getitem(obj, argument)


def _checked(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter or test that refuses secrets, and values over MAX_VALUE going in (so what it builds from them
    stays a small multiple of the cap) and coming out."""
    # The Jinja object passed first to some filters (`@pass_environment`) is not data.
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)  # keeps jinja_pass_arg, which tells Jinja what to pass
    def checked(*args: Any, **kwargs: Any) -> Any:
        data = (*args[skip:], *kwargs.values())
        _refuse_secrets(data)
        for value in data:
            bounded(value)
        return bounded(function(*args, **kwargs))

    return checked


def _join(value: Any, separator: str = "") -> str:
    items = [str(item) for item in value]
    size = sum(map(utf8_length, items)) + utf8_length(separator) * max(len(items) - 1, 0)
    if size > MAX_VALUE:
        raise too_big()
    return separator.join(items)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    if old == "":
        raise SecurityError("replace needs a non-empty text to replace")
    if utf8_length(text) + text.count(old) * max(utf8_length(new) - utf8_length(old), 0) > MAX_VALUE:
        raise too_big()
    return text.replace(old, new, -1 if count is None else count)


def _fixed(value: Any, decimals: int = 2) -> str:
    """`{{ 4200 / 100 | fixed(2) }}` → "42.00": money and measurements, without %-formatting's open-ended widths."""
    if not isinstance(decimals, int) or not 0 <= decimals <= 12:
        raise SecurityError("fixed takes 0 to 12 decimals")
    return f"{float(value):.{decimals}f}"


def _tojson(value: Any, indent: Any = None) -> str:
    # An indent multiplies a value's size by its depth and width before anything can measure the result.
    if indent is not None:
        raise SecurityError("tojson writes compact JSON; indent is not available")
    return str(htmlsafe_json_dumps(value, sort_keys=True))  # as Jinja's own tojson


def _placed(value: Any) -> Any:
    """Each `{{ }}` in text, before it is written: a secret as its value, anything else if it is small enough."""
    return str(value) if isinstance(value, Secret) else bounded(value)


ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_placed)
ENV.filters = {
    name: _checked(function)
    for name, function in ({n: f for n, f in ENV.filters.items() if n in _FILTERS}
                           | {"join": _join, "replace": _replace, "fixed": _fixed, "tojson": _tojson}).items()
}
_TESTS = cast("dict[str, Callable[..., Any]]", ENV.tests)  # Jinja's own type for them is `function`
ENV.tests = {name: _checked(function) for name, function in _TESTS.items()}
ENV.globals = {}
