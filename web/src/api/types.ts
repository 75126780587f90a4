// Wire types of the REST and WebSocket API (docs/API.md). They mirror the pydantic models in schemas/;
// once the backend publishes its JSON Schema, this file should be generated from it rather than edited.

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface FieldError {
  field: string;
  reason: string;
  nodeId?: string | null;
  edgeId?: string | null;
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldError[] };
}

export interface Step {
  id: string;
  nodeId?: string | null;
  name: string;
  type: string;
  status: StepStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  attempt: number;
  error: string | null;
}

export interface LogEntry {
  ts: string;
  level: LogLevel;
  msg: string;
  stepId?: string | null;
}

export interface Run {
  id: string;
  status: RunStatus;
  workflowName: string;
  steps: Step[];
  logs: LogEntry[];
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RunSummary {
  id: string;
  status: RunStatus;
  workflowName: string;
  createdAt: string;
  updatedAt: string;
}

interface EventBase {
  runId: string;
  seq: number;
  ts: string;
}

export type RunEvent =
  | (EventBase & { type: 'run'; status: RunStatus; error: string | null })
  | (EventBase & { type: 'step'; step: Step })
  | (EventBase & { type: 'log'; log: LogEntry });

export interface ValidateOk {
  ok: true;
  workflowName: string;
  steps: { id: string; name: string; type: string; deps: string[] }[];
}

export interface TemplateSummary {
  id: string;
  name: string;
  description?: string;
}
