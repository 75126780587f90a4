"""Every REST body and bus message: the contracts the actors share."""

from .api import (
    ApiError,
    CancelAccepted,
    CreateRun,
    CreateRunResponse,
    RunResult,
    ErrorBody,
    IdempotencyClaim,
    TemplateInfo,
    TemplateList,
    ValidatedStep,
    ValidateWorkflow,
    ValidationResponse,
)
from .compiler import MAX_GRAPH_NODES, check_size, compile_workflow, compile_workflow_off_loop, run_inputs
from .dag import Dag, DagStep, Pin
from .pins import partial_run
from .errors import FieldIssue, WorkflowInvalid, field_path, issues_from_validation
from .graph import (
    Edge,
    Graph,
    GraphMeta,
    Node,
    NodeData,
    Position,
    TemplateWorkflow,
    as_graph,
)
from .messages import (
    RUN_EVENT,
    CancelRequested,
    LogEvent,
    RunEvent,
    RunEvents,
    RunRequested,
    RunStatusEvent,
    ResumeRequested,
    StepAbort,
    StepDispatch,
    StepEvent,
    StepResult,
    TimerDue,
    Workflow,
    fold_events,
)
from .node_types import (
    DEFAULT_HTTP_TIMEOUT_MS,
    NODE_ID_PATTERN,
    REGISTRY,
    HttpConfig,
    NodeSettings,
    NodeType,
    NodeTypeList,
    RetryPolicy,
)
from .runs import (
    FINISHED_STEP_STATUSES,
    MAX_LOGS_PER_RUN,
    RUN_ID_PATTERN,
    TERMINAL_RUN_STATUSES,
    LogEntry,
    RunList,
    RunRecord,
    RunStatus,
    RunTrigger,
    RunSummary,
    RunView,
    StepAttempt,
    StepCall,
    StepOutput,
    StepRequest,
    StepState,
    StepStatus,
    new_run_id,
)

__all__ = [
    "ApiError", "CancelAccepted", "CreateRun", "CreateRunResponse", "RunResult", "ErrorBody", "IdempotencyClaim", "TemplateInfo", "TemplateList", "ValidatedStep",
    "ValidateWorkflow", "ValidationResponse", "MAX_GRAPH_NODES", "check_size", "compile_workflow", "compile_workflow_off_loop", "run_inputs", "Dag", "DagStep", "Pin", "partial_run", "FieldIssue",
    "WorkflowInvalid", "field_path", "issues_from_validation", "Edge", "Graph", "GraphMeta", "Node", "NodeData",
    "Position", "TemplateWorkflow", "as_graph", "RUN_EVENT", "CancelRequested", "LogEvent", "RunEvent",
    "RunEvents", "RunRequested", "RunStatusEvent", "ResumeRequested", "StepAbort", "StepDispatch", "StepEvent", "StepResult", "TimerDue", "Workflow",
    "fold_events",
    "DEFAULT_HTTP_TIMEOUT_MS", "NODE_ID_PATTERN", "REGISTRY", "HttpConfig", "NodeSettings", "NodeType", "NodeTypeList",
    "RetryPolicy", "StepAttempt", "StepCall", "StepRequest", "FINISHED_STEP_STATUSES", "MAX_LOGS_PER_RUN",
    "RUN_ID_PATTERN", "TERMINAL_RUN_STATUSES", "LogEntry", "RunList", "RunRecord", "RunStatus", "RunSummary", "RunTrigger",
    "RunView", "StepOutput", "StepState", "StepStatus", "new_run_id",
]
