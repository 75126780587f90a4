// Wire types of the REST and WebSocket API (docs/API.md). The ones the backend publishes as JSON Schema are
// generated into schema.gen.ts (npm run gen:types); this module gives them the builder's names.

import type {
  CredentialInfo,
  FieldIssue,
  FieldUi,
  Handle,
  ImportReport,
  ImportResponse,
  ImportedNode,
  McpToolInfo,
  McpToolsList,
  NodeTypeInfo,
  NodeTypeList,
  StepAttempt,
  StepCall,
  StepRequest,
  LogEntry as WireLog,
  RunView,
  RunEvent as WireEvent,
  RunSummary as WireSummary,
  ItemProgress,
  StepItem,
  StepItems,
  StepOutput,
  StepState,
  TemplateInfo,
  ValidationResponse,
  SessionInfo,
  SignInConflict,
  TriggerInfo,
  WaitState,
  WorkflowSummary,
  WorkflowView as WireWorkflowView,
  WorkflowVersion,
  WorkflowVersionInfo,
  WorkflowRef,
} from './schema.gen';

export type Step = StepState;
export type LogEntry = WireLog;
export type Run = RunView;
export type RunSummary = WireSummary;
export type RunEvent = WireEvent;
export type FieldError = FieldIssue;
export type { ApiError as ErrorBody } from './schema.gen';
export type { FieldUi, Handle, ItemProgress, NodeTypeInfo, NodeTypeList, StepAttempt, StepCall, StepItem, StepItems, StepOutput, StepRequest, WaitState };
export type { ImportReport, ImportResponse, ImportedNode, McpToolInfo, McpToolsList };
/** The formats `POST /v1/import` reads. */
export type ImportSource = ImportResponse['source'];
export type ImportStatus = ImportedNode['status'];
export type { SessionInfo, SignInConflict, TriggerInfo, WorkflowRef, WorkflowSummary, WorkflowVersion, WorkflowVersionInfo };
/** `errorWorkflowId` is optional while servers from before it (which leave it out) are about. */
export type WorkflowView = Omit<WireWorkflowView, 'errorWorkflowId'> & { errorWorkflowId?: string | null };
/** What a save sets beside the graph: each key only when it is sent (null clears it). */
export interface WorkflowSettings {
  /** The saved workflow that runs when a run of this one fails. */
  errorWorkflowId?: string | null;
  /** The JSON Schema its runs' inputs must satisfy; null removes it. */
  inputSchema?: Record<string, unknown> | null;
  /** Offered as a tool by the MCP server while active. */
  exposeAsTool?: boolean;
  description?: string | null;
}
export type Role = SessionInfo['role'];
export type RunTrigger = RunSummary['trigger'];

/** GET /v1/runs filters (docs/API.md, Runs); `before` is the `next` of the previous page. */
export interface RunQuery {
  limit: number;
  workflowId?: string;
  status?: RunStatus;
  trigger?: RunTrigger;
  /** Only the child runs (subworkflows) that run started. */
  parentRunId?: string;
  before?: string;
}

/** What an approval's resume URL takes (POST, JSON). */
export interface ApprovalAnswer {
  approved: boolean;
  comment?: string;
}

export type RunStatus = Run['status'];
export type StepStatus = Step['status'];
export type LogLevel = LogEntry['level'];

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

export type ValidateOk = ValidationResponse;
export type TemplateSummary = TemplateInfo;
/** No response ever carries a secret value: `masked` is `sk_l…9f3a`, or `••••••••` for short values. */
export type Credential = CredentialInfo;

export interface NewCredential {
  name: string;
  value: string;
  description?: string;
  /** Where the value may be sent; absent or empty: anywhere. */
  allowedHosts?: string[];
}
