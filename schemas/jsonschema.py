"""Write the JSON Schemas of the bus messages to schemas/json/: `python -m schemas.jsonschema`.

Other systems build against these files; a test fails when they drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from .api import (
    ApiError,
    CreateRun,
    CreateRunResponse,
    RunResult,
    ResumeAccepted,
    ResumeApproval,
    TemplateInfo,
    ValidationResponse,
)
from .auth import AuditList, NewToken, SessionInfo, SignIn, SignInCode, TokenCreated, TokenList
from .credentials import CredentialInfo, NewCredential, ReplacedCredential
from .messages import (
    CancelRequested,
    RunEvent,
    RunEvents,
    RunRequested,
    ResumeRequested,
    StepAbort,
    StepDispatch,
    StepResult,
    TimerDue,
)
from .imports import ImportRequest, ImportResponse
from .mcp_tools import McpToolsList, McpToolsRequest
from .items import StepItems
from .preview import ExpressionPreview, PreviewExpression, PreviewRequest
from .node_types import REGISTRY, NodeTypeList
from .runs import RunList, RunRecord, RunView, StepOutput
from .workflows import (
    CreateWorkflow,
    SchedulePreview,
    UpdateWorkflow,
    WorkflowList,
    WorkflowVersion,
    WorkflowVersionList,
    WorkflowView,
)

SCHEMA_DIR = Path(__file__).parent / "json"

PUBLISHED: dict[str, Any] = {
    "RunRequested": RunRequested,
    "CancelRequested": CancelRequested,
    "StepDispatch": StepDispatch,
    "StepResult": StepResult,
    "StepAbort": StepAbort,
    "ResumeRequested": ResumeRequested,
    "ResumeApproval": ResumeApproval,
    "ResumeAccepted": ResumeAccepted,
    "StepItems": StepItems,
    "TimerDue": TimerDue,
    "NodeTypeList": NodeTypeList,
    "RunEvent": RunEvent,
    "RunEvents": RunEvents,
    "RunRecord": RunRecord,
    "RunView": RunView,
    "RunList": RunList,
    "StepOutput": StepOutput,
    "CreateRun": CreateRun,
    "CreateRunResponse": CreateRunResponse,
    "RunResult": RunResult,
    "ApiError": ApiError,
    "ValidationResponse": ValidationResponse,
    "TemplateInfo": TemplateInfo,
    "CredentialInfo": CredentialInfo,
    "NewCredential": NewCredential,
    "ReplacedCredential": ReplacedCredential,
    "CreateWorkflow": CreateWorkflow,
    "UpdateWorkflow": UpdateWorkflow,
    "WorkflowView": WorkflowView,
    "WorkflowList": WorkflowList,
    "WorkflowVersion": WorkflowVersion,
    "WorkflowVersionList": WorkflowVersionList,
    "SchedulePreview": SchedulePreview,
    "NewToken": NewToken,
    "TokenCreated": TokenCreated,
    "TokenList": TokenList,
    "SignIn": SignIn,
    "SignInCode": SignInCode,
    "SessionInfo": SessionInfo,
    "AuditList": AuditList,
    "ImportRequest": ImportRequest,
    "ImportResponse": ImportResponse,
    "PreviewExpression": PreviewExpression,
    "ExpressionPreview": ExpressionPreview,
    "PreviewRequest": PreviewRequest,
    "McpToolsRequest": McpToolsRequest,
    "McpToolsList": McpToolsList,
}


def render(name: str) -> str:
    schema = TypeAdapter(PUBLISHED[name]).json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"automateos/{name}.json", **schema}
    schema.setdefault("title", name)
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


CATALOGUE = "node-types"


def render_catalogue() -> str:
    """The built-in node types as GET /v1/node-types serves them: for systems that build graphs offline."""
    return json.dumps(REGISTRY.catalogue().model_dump(mode="json"), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in PUBLISHED:
        path = SCHEMA_DIR / f"{name}.json"
        path.write_text(render(name), encoding="utf-8")
        print(f"wrote {path}")
    path = SCHEMA_DIR / f"{CATALOGUE}.json"
    path.write_text(render_catalogue(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
