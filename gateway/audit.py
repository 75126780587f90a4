"""The audit log: every change to workflows, credentials and tokens, who made it, readable at GET /v1/audit."""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bus import BusUnavailable
from schemas import FieldIssue
from schemas.auth import AuditAction, AuditEntry, AuditList

from .app_state import bus_of
from .auth import principal_of
from .errors import ApiException, json_response

log = logging.getLogger(__name__)

MAX_AUDIT_LIMIT = 500


async def record(request: Request, action: AuditAction, target: str, version: int | None = None,
                 **detail: Any) -> None:
    """Append one entry. Called after the change is stored: a change that failed is not in the log."""
    entry = AuditEntry(actor=principal_of(request).name, action=action, target=target, version=version, detail=detail)
    try:
        await bus_of(request).audit(entry)
    except BusUnavailable as error:
        # The change happened; say loudly that its entry is missing rather than pretend it did not happen.
        log.error("audit entry lost (%s): %s", type(error).__name__, entry.model_dump_json())


async def list_audit(request: Request) -> Response:
    issues = []
    limit_text = request.query_params.get("limit") or "50"
    limit = int(limit_text) if re.fullmatch(r"[0-9]{1,4}", limit_text) else 0
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        issues.append(FieldIssue(field="limit", reason=f"must be a whole number from 1 to {MAX_AUDIT_LIMIT}"))
    before_text = request.query_params.get("before")
    before = int(before_text) if before_text and re.fullmatch(r"[1-9][0-9]{0,18}", before_text) else None
    if before_text and before is None:
        issues.append(FieldIssue(field="before", reason="must be an entry's seq (a whole number from 1)"))
    if issues:
        raise ApiException(422, "validation_error", "invalid query parameters", issues)
    entries = await bus_of(request).audit_log(before, limit)
    oldest = entries[-1].seq if entries else None
    return json_response(AuditList(entries=entries, next=oldest if len(entries) == limit and oldest != 1 else None))
