// Wire types of the REST and WebSocket API (docs/API.md). The ones the backend publishes as JSON Schema are
// generated into schema.gen.ts (npm run gen:types); this module gives them the builder's names.

import type { FieldIssue, LogEntry as WireLog, RunView, RunEvent as WireEvent, RunSummary as WireSummary, StepState } from './schema.gen';

export type Step = StepState;
export type LogEntry = WireLog;
export type Run = RunView;
export type RunSummary = WireSummary;
export type RunEvent = WireEvent;
export type FieldError = FieldIssue;
export type { ApiError as ErrorBody } from './schema.gen';

export type RunStatus = Run['status'];
export type StepStatus = Step['status'];
export type LogLevel = LogEntry['level'];

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

// Not (yet) published in schemas/json/: mirrors schemas/api.py ValidationResponse and TemplateInfo.
export interface ValidateOk {
  ok: true;
  workflowName: string;
  steps: { id: string; name: string; type: string; deps: string[] }[];
}

export interface TemplateSummary {
  id: string;
  name: string;
  description?: string | null;
}
