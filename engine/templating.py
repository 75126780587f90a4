"""`{{ … }}` in node configs, rendered in a sandbox just before the request.

Variables: `inputs`, `payload` (inputs.payload), each top-level input by name, `steps.<nodeId>.output…`
(upstream outputs), and `getCredential('name')`. A missing variable fails the step, naming it.

A credential can be placed (in a URL, a header, a body; alone in `{{ }}` or joined with `~`), never transformed:
a filter, method, slice, test or arithmetic on it fails the step. Every value, however it is built, is capped
at MAX_VALUE bytes; the sandbox itself is engine/_sandbox.py.
"""

from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError

from schemas.credentials import CREDENTIAL_NAME_MAX, CREDENTIAL_NAME_PATTERN, CREDENTIAL_NAME_RULE
from schemas.expressions import MIXED_EXPRESSION, WHOLE_TEMPLATE, expression_source

from ._sandbox import ENV, MAX_VALUE, Secret, bounded, secret_refused
from .errors import StepFailed
from .limits import size_in_bytes

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_RESERVED = {"inputs", "payload", "steps", "getCredential", "loop"}
MAX_TEMPLATE_CHARS = 8_192


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
        _check_nesting(text, "the template")
        try:
            tree = ENV.parse(text)
        except TemplateSyntaxError:
            continue  # reported when rendered
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "getCredential":
                name = _credential_name(call)
                if name is None:
                    raise StepFailed("getCredential takes one quoted name, as in getCredential('notionToken')")
                if not re.fullmatch(CREDENTIAL_NAME_PATTERN, name) or len(name) > CREDENTIAL_NAME_MAX:
                    raise StepFailed(f"getCredential({name[:70]!r}): {CREDENTIAL_NAME_RULE}")
                found.add(name)
    return found


class Renderer:
    """Renders the strings of one step's config against that step's variables."""

    def __init__(self, inputs: Mapping[str, Any], steps: Mapping[str, Any], credentials: Mapping[str, str],
                 loop: Mapping[str, Any] | None = None) -> None:
        def get_credential(name: str) -> Secret:
            if name not in credentials:
                raise StepFailed(f"credential '{name}' is not defined")
            return Secret(name, credentials[name])

        self.has_credentials = bool(credentials)
        self.variables: dict[str, Any] = {
            key: value for key, value in inputs.items() if key not in _RESERVED and key.isidentifier()
        }
        # `loop` is the item a loop body's step runs for ({item, index, parent}); None outside a loop.
        self.variables.update(inputs=dict(inputs), steps=dict(steps), getCredential=get_credential,
                              loop=dict(loop) if loop is not None else None)
        if "payload" in inputs:
            self.variables["payload"] = inputs["payload"]

    def text(self, template: str, where: str) -> str:
        if "{{" not in template and "{%" not in template and "{#" not in template:
            return template
        _check_source(template, where)
        return str(self._guard(lambda: _compiled(template).render(self.variables), template, where))

    def value(self, value: Any, where: str) -> Any:
        """JSON values: a string that is one whole `{{ expr }}` keeps the expression's own type (a list stays a list)."""
        if isinstance(value, dict):
            return {k: self.value(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and (whole := WHOLE_TEMPLATE.match(value)):
            _check_source(value, where)

            def evaluate() -> Any:
                return bounded(_compiled_expression(value, whole.group(1))(**self.variables))

            result = self._guard(evaluate, value, where)
            if isinstance(result, Secret):
                return str(result)
            return result if isinstance(result, (str, int, float, bool, list, dict, type(None))) else str(result)
        if isinstance(value, str):
            return self.text(value, where)
        return value

    def bounded(self, value: Any, where: str) -> Any:
        """A whole rendered field: at most MAX_VALUE bytes, however many templates filled it in."""
        if size_in_bytes(value, MAX_VALUE) > MAX_VALUE:
            raise StepFailed(f"after filling in its templates, {where} would be larger than {MAX_VALUE // 1024} KiB")
        return value

    def expression(self, source: str, where: str) -> Any:
        """A condition is one expression, written with or without braces: `amount > 500` or `{{ amount > 500 }}`.
        Text mixed with `{{ }}` (`{{ amount }} > 500`) is refused: as a template it is the text "900 > 500", always
        true, and the compiler refuses it before a run starts (schemas.expressions)."""
        inner = expression_source(source)
        if inner is None:
            raise StepFailed(f"{where}: {MIXED_EXPRESSION}")
        return self.value(source if WHOLE_TEMPLATE.match(source) else "{{ " + inner + " }}", where)

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
            hint = self._why_missing(name) if name else None
            raise StepFailed(f"template variable {shown} is not defined (in {where})"
                             + (f": {hint}" if hint else "")) from None
        except SecurityError as error:
            raise StepFailed(f"the template in {where} is not allowed: {error}") from None
        except TemplateSyntaxError as error:
            raise StepFailed(f"template syntax error in {where}: {error.message}") from None
        except Exception as error:  # a template's own error (1/0, a bad filter argument): the step's fault
            # Its message may quote a value, perhaps a credential's: with credentials in play, name the kind only.
            detail = f": {error}" if not self.has_credentials else ""
            raise StepFailed(f"the template in {where} failed: {type(error).__name__}{detail}") from None

    def _why_missing(self, name: str) -> str | None:
        """What is there instead, for a dotted path whose start exists: a webhook that posted a JSON array, read
        as payload.body.type, should hear that payload.body is a list, not only that something is undefined."""
        parts = name.split(".")
        if not all(part.isidentifier() for part in parts) or parts[0] not in self.variables:
            return None
        value: Any = self.variables[parts[0]]
        for depth, part in enumerate(parts[1:], start=1):
            parent = ".".join(parts[:depth])
            if isinstance(value, Mapping):
                if part in value:
                    value = value[part]
                    continue
                fields = ", ".join(sorted(str(key) for key in value)[:8]) or "none"
                more = ", …" if len(value) > 8 else ""
                if parent == "steps":
                    return (f"there is no output of step '{part}' here: it is not a step before this one, or it has "
                            f"not run yet (steps with an output: {fields}{more})")
                return f"{parent} has no field '{part}' (its fields: {fields}{more})"
            if isinstance(value, list):
                items = f"{len(value)} item{'' if len(value) == 1 else 's'}"
                return (f"{parent} is a list of {items}, not an object: "
                        f"{parent}[0].{'.'.join(parts[depth:])} reads the first")
            kind = "text" if isinstance(value, str) else "empty (none)" if value is None else type(value).__name__
            return f"{parent} is {kind}, not an object"
        return None

    def _undefined_in(self, template: str) -> str | None:
        for match in _EXPRESSION.finditer(template):
            expression = match.group(1).strip()
            try:
                result = ENV.compile_expression(expression, undefined_to_none=False)(**self.variables)
                str(result)
            except UndefinedError:
                # Name the variable, not the expression: `amount > 100 and steps.charge.output.ok` is missing
                # `steps.charge.output.ok`, and that is what the hint explains.
                return next((path for path in _variable_paths(expression) if self._undefined(path)), expression)
            except Exception:  # noqa: S112 - another kind of error: keep looking for the undefined one
                continue
        return None

    def _undefined(self, path: str) -> bool:
        try:
            str(ENV.compile_expression(path, undefined_to_none=False)(**self.variables))
        except UndefinedError:
            return True
        except Exception:  # another kind of failure: not the missing variable
            return False
        return False


# Compiling is most of a render's cost (about a millisecond; rendering a compiled one, tens of microseconds), and a
# workflow's steps render the same few templates run after run. Bounded: at most 8 KiB a template, 512 of each kind.
# Only what passed the checks is kept: a refused template raises, and lru_cache keeps no exception.
@lru_cache(maxsize=512)
def _compiled(template: str) -> Template:
    tree = ENV.parse(template)
    _check_placements(tree)
    return ENV.from_string(tree)


@lru_cache(maxsize=512)
def _compiled_expression(template: str, expression: str) -> TemplateExpression:
    """`expression`, the inside of `template` (one whole `{{ … }}`), compiled to keep its value's own type."""
    if "getCredential" in template:
        _check_placements(ENV.parse(template))
    return ENV.compile_expression(expression, undefined_to_none=False)


def _check_placements(tree: nodes.Template) -> None:
    """A secret may be placed, never transformed: getCredential('name') stands alone in `{{ }}`, or is joined
    with `~`, and nothing else. The sandbox refuses the rest at run time too (engine/_sandbox.py Secret), but
    `('' ~ getCredential('x'))|upper` is plain text by the time it is upper-cased: only the shape of the
    expression tells. Templates have no statements, so no variable can carry a secret elsewhere unseen."""
    pending: list[tuple[nodes.Node, bool]] = [(tree, True)]
    while pending:
        node, placed = pending.pop()
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "getCredential":
            if not placed:
                raise SecurityError(secret_refused(_credential_name(node)))
            continue
        if isinstance(node, nodes.Name) and node.name == "getCredential":
            raise SecurityError("getCredential can only be called, as in getCredential('notionToken')")
        keeps = isinstance(node, (nodes.Template, nodes.Output)) or (placed and isinstance(node, nodes.Concat))
        pending.extend((child, keeps) for child in node.iter_child_nodes())


def _credential_name(call: nodes.Call) -> str | None:
    if call.kwargs or call.dyn_args is not None or call.dyn_kwargs is not None or len(call.args) != 1:
        return None
    [argument] = call.args
    return argument.value if isinstance(argument, nodes.Const) and isinstance(argument.value, str) else None


def _check_source(template: str, where: str) -> None:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise StepFailed(f"the template in {where} is longer than {MAX_TEMPLATE_CHARS} characters")
    _check_nesting(template, f"the template in {where}")
    if "{%" in template or "{#" in template:
        raise StepFailed(f"the template in {where} uses {{% %}} or {{# #}}: only {{{{ expressions }}}} are available")


# Jinja's parser recurses once per bracket: 3,000 of them end in a RecursionError (and a traceback per step). No
# template a person writes nests a fraction of this.
MAX_NESTING = 64


def _check_nesting(template: str, what: str) -> None:
    depth = deepest = 0
    for char in template:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    # `{{ … }}` itself counts two; a dict literal inside counts as nesting like any bracket.
    if deepest > MAX_NESTING + 2:
        raise StepFailed(f"{what} nests brackets more than {MAX_NESTING} deep")


def _variable_paths(expression: str) -> list[str]:
    """The dotted variables an expression reads, outermost first (`steps.charge.output.ok`, not `steps`), in order."""
    try:
        tree = ENV.parse("{{ " + expression + " }}")
    except TemplateSyntaxError:
        return []
    paths: list[str] = []
    pending: list[nodes.Node] = [tree]
    while pending:
        node = pending.pop(0)
        chain: list[str] = []
        base = node
        while isinstance(base, nodes.Getattr):
            chain.append(base.attr)
            base = base.node
        if isinstance(base, nodes.Name) and (chain or node is base):
            paths.append(".".join([base.name, *reversed(chain)]))
            continue
        pending[:0] = list(node.iter_child_nodes())
    return paths


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
