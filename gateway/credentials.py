"""REST endpoints for credentials. Values go in; only masked forms ever come out."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from bus import Bus, CredentialExists, MasterKeyError
from schemas import FieldIssue
from schemas.api import WorkflowRef
from schemas.credentials import (
    CREDENTIAL_NAME_MAX,
    CREDENTIAL_NAME_PATTERN,
    NewCredential,
    ReplacedCredential,
)

from . import audit
from .app_state import bus_of, credentials_of
from .errors import ApiException, json_response, parse_body, read_body


def _name(request: Request) -> str:
    name = str(request.path_params["name"])
    if len(name) > CREDENTIAL_NAME_MAX or not re.fullmatch(CREDENTIAL_NAME_PATTERN, name):
        raise ApiException(422, "validation_error", "invalid credential name", [FieldIssue(
            field="name", reason="use 1 to 64 letters, digits, '_' and '-', in parts joined by single dots")])
    return name


async def list_credentials(request: Request) -> Response:
    infos = await credentials_of(request).infos()
    body = "[" + ",".join(info.model_dump_json() for info in infos) + "]"
    return Response(body, media_type="application/json")


async def create_credential(request: Request) -> Response:
    new = parse_body(NewCredential, await read_body(request))
    try:
        info = await credentials_of(request).create(new.name, new.value, new.description, new.allowedHosts)
    except MasterKeyError as error:
        raise ApiException(503, "unavailable", f"{error}; restart the gateway with the current key") from None
    except CredentialExists as exists:
        raise ApiException(409, "conflict", str(exists), [FieldIssue(field="name", reason="already exists")]) from None
    await audit.record(request, "credential.create", new.name, None, **_fence(new.allowedHosts))
    return json_response(info, 201)


async def replace_credential(request: Request) -> Response:
    name = _name(request)
    replaced = parse_body(ReplacedCredential, await read_body(request))
    try:
        info, created = await credentials_of(request).replace(name, replaced.value, replaced.description,
                                                                   replaced.allowedHosts)
    except MasterKeyError as error:
        raise ApiException(503, "unavailable", f"{error}; restart the gateway with the current key") from None
    await audit.record(request, "credential.create" if created else "credential.replace", name, None,
                       **_fence(info.allowedHosts))
    return json_response(info, 201 if created else 200)


def _fence(allowed_hosts: list[str]) -> dict[str, list[str]]:
    # Who widened or removed a fence is worth knowing afterwards; the hosts are not secret.
    return {"allowedHosts": allowed_hosts} if allowed_hosts else {}


async def delete_credential(request: Request) -> Response:
    """A credential saved workflows still use is not deleted unless `?force=true`: they would fail only later,
    at run time, far from the click that broke them."""
    name = _name(request)
    force = request.query_params.get("force", "false").lower()
    if force not in ("true", "false"):
        raise ApiException(422, "validation_error", "force must be true or false",
                           [FieldIssue(field="force", reason="must be true or false")])
    if force == "false":
        users = await _workflows_using(bus_of(request), name)
        if users:
            listed = ", ".join(f"'{u.name}'" for u in users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
            raise ApiException(
                409, "in_use", f"credential '{name}' is used by {len(users)} saved workflow"
                f"{'s' if len(users) > 1 else ''}: {listed}; delete with ?force=true to delete it anyway",
                [FieldIssue(field="name", reason=f"used by {len(users)} saved workflow{'s' if len(users) > 1 else ''}")],
                used_by=users)
    if not await credentials_of(request).delete(name):
        raise ApiException(404, "not_found", f"credential '{name}' is not defined")
    await audit.record(request, "credential.delete", name, **({"forced": True} if force == "true" else {}))
    return Response(status_code=204)


async def _workflows_using(bus: Bus, name: str) -> list[WorkflowRef]:
    """Saved workflows whose latest version, or whose live (active) version, names the credential."""
    users = []
    for head in sorted(await bus.workflows.heads(), key=lambda h: h.name.lower()):
        graphs = [head.graph]
        if head.active and head.activeVersion is not None and head.activeVersion != head.version:
            live = await bus.workflows.version(head.id, head.activeVersion)
            graphs += [live.graph] if live is not None else []
        if any(name in graph.credential_names() for graph in graphs):
            users.append(WorkflowRef(id=head.id, name=head.name, active=head.active))
    return users
