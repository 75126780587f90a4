"""Around every executor, once: credentials revealed, templates rendered, the config checked, secrets scrubbed.

Executors only act. Whatever they report (output, logs, the request, an error) passes through here on its way
out, scrubbed of every secret the step touched, so no node type can leak one by forgetting.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bus import CredentialMissing, DecryptionError
from schemas import REGISTRY, StepDispatch, StepRequest, issues_from_validation
from schemas.masking import Scrubber, request_secrets
from schemas.node_types import NodeType

from .errors import StepFailed
from .nodes import EXECUTORS, NodeContext, NodeOutcome, StepContext
from .outbound_guard import sending_credentials
from .templating import Renderer, credential_names, has_template


async def run_step(dispatch: StepDispatch, context: NodeContext) -> NodeOutcome:
    """Execute one attempt of a dispatched step; raises StepFailed, already scrubbed, when it fails."""
    node_type = REGISTRY.get(dispatch.type)
    executor = EXECUTORS.get(node_type.type) if node_type is not None else None
    if node_type is None or executor is None:
        raise StepFailed(f"this worker cannot execute step type {dispatch.type!r}")
    # One of several calls in an attempt (an agent's model and tool calls) carries that call's config, which is never
    # rendered: it holds what a model said, and a model's words must not run as templates.
    call = dispatch.call is not None and node_type.call_config is not None
    model = node_type.call_config if call and node_type.call_config is not None else node_type.config
    # Checked before any secret is revealed; a config with nothing to fill in is what runs.
    config = _validated(node_type, dispatch.config, f"invalid {node_type.title} configuration", model=model)
    secrets, fences = await _reveal(node_type, dispatch.config, context)
    if not call and (secrets or has_template(_templated(node_type, dispatch.config))
                     or _has_expression(node_type, dispatch.config)):
        try:
            rendered = _rendered(node_type, dispatch, secrets)
            config = _validated(node_type, rendered, f"after filling in its templates, the {node_type.title} "
                                "configuration is invalid", quote_reasons=not secrets, typed_from=dispatch.config)
        except StepFailed as failure:
            raise _scrubbed(failure, Scrubber([], known=list(secrets.values()))) from None
    # What was sent may come back (an API echoing its Authorization header in an error page): scrub the
    # values of sensitive fields too, beside the credentials.
    # A credential field holds the credential's name (`auth.credentialName`, or `credentialName`), not a secret: masking it would hide
    # which credential a refusal names.
    sent = _sent_secrets(config.model_dump(warnings=False, exclude=set(node_type.credential_fields)))
    scrub = Scrubber(sent, known=list(secrets.values()))
    step = StepContext(dispatch=dispatch, session=context.session, secrets=secrets, scrub=scrub,
                       max_loop_items=context.max_loop_items)
    try:
        with sending_credentials(fences):
            outcome = await executor(config, step)
    except StepFailed as failure:
        raise _scrubbed(failure, scrub) from None
    if scrub:
        outcome.output = scrub.value(outcome.output)
        outcome.request = _scrubbed_request(outcome.request, scrub)
        for entry in outcome.logs:
            entry.msg = scrub.text(entry.msg)
    return outcome


def _templated(node_type: NodeType, config: dict[str, Any]) -> dict[str, Any]:
    return {name: config[name] for name in node_type.templated if name in config}


def _has_expression(node_type: NodeType, config: dict[str, Any]) -> bool:
    """A condition is an expression even without {{ }}: `1 > 2` must be evaluated, never read as the text "1 > 2"."""
    return any(mode == "expression" and isinstance(config.get(name), str) for name, mode in node_type.templated.items())


def _validated(
    node_type: NodeType, config: dict[str, Any], problem: str, quote_reasons: bool = True,
    typed_from: dict[str, Any] | None = None, model: type[Any] | None = None,
) -> Any:
    """The config as its model. `typed_from`: for fields rendered as typed values, the drawn text is what the
    model checks (an `if` condition is declared as text), and the rendered value is what the executor gets."""
    typed = [f for f, mode in node_type.templated.items() if mode != "text" and f in config] if typed_from else []
    checked = {**config, **{f: typed_from[f] for f in typed if typed_from and f in typed_from}}
    try:
        validated = (model or node_type.config).model_validate(checked)
    except ValidationError as error:
        issues = issues_from_validation(error, "config")
        # A reason may quote part of a value ("…cast to integer value as 'ab'"): with secrets in play, name fields only.
        shown = [f"{i.field}: {i.reason}" if quote_reasons else i.field for i in issues]
        raise StepFailed(f"{problem}: {'; '.join(shown)}") from None
    return validated.model_copy(update={f: config[f] for f in typed}) if typed else validated


async def _reveal(
    node_type: NodeType, config: dict[str, Any], context: NodeContext
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every credential the step uses, fetched and decrypted before anything is rendered or sent, and the fences of
    those that have one. A credential named anywhere in the step counts as sent wherever the step connects."""
    names = credential_names(list(_templated(node_type, config).values()))
    names.update(node_type.credential_names(config))
    if not names:
        return {}, {}
    store = context.credentials
    if store is None:
        raise StepFailed("this worker has no master key, so it cannot use credentials")
    values: dict[str, str] = {}
    fences: dict[str, list[str]] = {}
    for name in sorted(names):
        try:
            values[name], allowed_hosts = await store.reveal_fenced(name)
            if allowed_hosts:
                fences[name] = allowed_hosts
        except CredentialMissing as missing:
            raise StepFailed(str(missing)) from None
        except DecryptionError as error:
            raise StepFailed(str(error)) from None
    return values, fences


def _rendered(node_type: NodeType, dispatch: StepDispatch, secrets: dict[str, str]) -> dict[str, Any]:
    render = Renderer(dispatch.inputs, dispatch.steps, secrets, dispatch.loop)
    rendered = dict(dispatch.config)
    for field, mode in node_type.templated.items():
        if field not in rendered or rendered[field] is None:
            continue
        value = rendered[field]
        if mode == "text":
            rendered[field] = _render_text(render, value, field)
        elif mode == "expression" and isinstance(value, str):
            rendered[field] = render.expression(value, field)
        else:
            rendered[field] = render.value(value, field)
        if has_template(value):  # each template is capped; so is a field that many of them fill in
            render.bounded(rendered[field], field)
    return rendered


def _render_text(render: Renderer, value: Any, where: str) -> Any:
    if isinstance(value, str):
        return render.text(value, where)
    if isinstance(value, dict):
        return {k: _render_text(render, v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_render_text(render, v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _sent_secrets(config: Any) -> list[str]:
    """Values a rendered config carries in sensitive places: text fields named like secrets (an Authorization
    header), and passwords and sensitive query values in URLs."""
    if isinstance(config, list):
        return [secret for item in config for secret in _sent_secrets(item)]
    if not isinstance(config, dict):
        return []
    # request_secrets keeps only the values of sensitive names.
    found = request_secrets("", {k: v for k, v in config.items() if isinstance(k, str) and isinstance(v, str)})
    for value in config.values():
        if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
            found += request_secrets(value, {})
        elif isinstance(value, (dict, list)):
            found += _sent_secrets(value)
    return found


def _scrubbed(failure: StepFailed, scrub: Scrubber) -> StepFailed:
    failure.message = scrub.text(failure.message)
    failure.log = scrub.text(failure.log) if failure.log else None
    failure.output = scrub.value(failure.output)
    failure.request = _scrubbed_request(failure.request, scrub)
    for entry in failure.logs:
        entry.msg = scrub.text(entry.msg)
    return failure


def _scrubbed_request(request: StepRequest | None, scrub: Scrubber) -> StepRequest | None:
    if request is None or not scrub:
        return request
    return StepRequest.model_validate(scrub.value(request.model_dump()))
