"""REST endpoints for credentials. Values go in; only masked forms ever come out."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from bus import CredentialExists, MasterKeyError
from schemas import FieldIssue
from schemas.credentials import (
    CREDENTIAL_NAME_MAX,
    CREDENTIAL_NAME_PATTERN,
    NewCredential,
    ReplacedCredential,
)

from . import audit
from .app_state import credentials_of
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
        info = await credentials_of(request).create(new.name, new.value, new.description)
    except MasterKeyError as error:
        raise ApiException(503, "unavailable", f"{error}; restart the gateway with the current key") from None
    except CredentialExists as exists:
        raise ApiException(409, "conflict", str(exists), [FieldIssue(field="name", reason="already exists")]) from None
    await audit.record(request, "credential.create", new.name)
    return json_response(info, 201)


async def replace_credential(request: Request) -> Response:
    name = _name(request)
    replaced = parse_body(ReplacedCredential, await read_body(request))
    try:
        info, created = await credentials_of(request).replace(name, replaced.value, replaced.description)
    except MasterKeyError as error:
        raise ApiException(503, "unavailable", f"{error}; restart the gateway with the current key") from None
    await audit.record(request, "credential.create" if created else "credential.replace", name)
    return json_response(info, 201 if created else 200)


async def delete_credential(request: Request) -> Response:
    name = _name(request)
    if not await credentials_of(request).delete(name):
        raise ApiException(404, "not_found", f"credential '{name}' is not defined")
    await audit.record(request, "credential.delete", name)
    return Response(status_code=204)
