// A run as the builder shows it, and how run events change it (pure).
// Events are applied exactly once and in seq order: duplicates are dropped, early arrivals wait for the gap.

import {
  TERMINAL_RUN_STATUSES,
  type ItemProgress,
  type LogEntry,
  type Run,
  type RunEvent,
  type RunStatus,
  type RunTrigger,
  type Step,
  type StepAttempt,
  type StepCall,
  type StepRequest,
  type StepStatus,
  type WaitState,
} from '../api/types';

export type RunOrigin = 'canvas' | 'history';
export type Connection = 'connecting' | 'live' | 'reconnecting' | 'closed' | 'lost';

export interface StepView {
  id: string;
  nodeId: string;
  name: string;
  type: string;
  status: StepStatus;
  durationMs: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  error: string | null;
  /** The last attempt's result (an HTTP step's `{status, headers, body, truncated?}`). */
  output: unknown;
  /** What an HTTP step sent on its last attempt. */
  request: StepRequest | null;
  /** Set when the output and request are large and kept apart: fetched when the step is opened. */
  outputRef: string | null;
  /** Every try, oldest first; earlier ones keep their own output. */
  attempts: StepAttempt[];
  /** The outputs a branching step took (`['true']`); null for steps that do not branch. */
  handles: string[] | null;
  /** While waiting (a delay, or before a retry): until when. */
  waitUntil: string | null;
  skipReason: string | null;
  /** Not executed: its pinned output was used (Run or Test step in the builder). */
  pinned: boolean;
  /** An agent step: its model calls and tool calls, in order (its conversation). */
  calls: StepCall[];
  /** Failed with onError continue: the run went on. */
  errorHandled: boolean;
  /** A loop, or a step of a loop's body: how many items it has finished, and how they went. */
  items: ItemProgress | null;
  /** A subworkflow step: the run it started. */
  childRunId: string | null;
  /** A waiting wait step: where it is answered (a path, or an absolute URL). */
  resumeUrl: string | null;
  /** A waiting wait step: what it asks and until when. */
  wait: WaitState | null;
  /** Seeded from the canvas before the server reported the step. */
  placeholder?: boolean;
}

export interface LogView extends LogEntry {
  seq: number;
}

export interface RunView {
  runId: string;
  origin: RunOrigin;
  status: RunStatus;
  workflowName: string;
  error: string | null;
  steps: StepView[];
  logs: LogView[];
  /** Highest seq applied; every event up to it has been applied. */
  lastSeq: number;
  /** Events that arrived ahead of a gap, by seq. */
  pending: Record<number, RunEvent>;
  connection: Connection;
  /** Whether the run's steps are the nodes on the canvas (so node badges show its statuses). */
  onCanvas: boolean;
  createdAt: string | null;
  /** Cancel was requested and not yet confirmed by a terminal event. */
  cancelRequested: boolean;
  /** Step ids in the server's graph order (from GET /v1/runs/{id}); null until known. */
  order: string[] | null;
  /** The server's sentence on what the unfinished run waits for (GET /v1/runs/{id} `waiting`); see `waits`. */
  waiting: string | null;
  /** When the server said the run began and ended (its run events' times): the run's wall-clock span, which
   * counts retry waits and delays that no step's own duration does. */
  startedAt: string | null;
  finishedAt: string | null;
  /** How the run began (GET /v1/runs/{id}); null until known. */
  trigger: RunTrigger | null;
  /** A child run (a subworkflow's, a loop item's): the run and step that started it. */
  parentRunId: string | null;
  parentStepId: string | null;
}

export function createRunView(
  runId: string,
  origin: RunOrigin,
  init: { workflowName?: string; steps?: StepView[]; onCanvas?: boolean; createdAt?: string | null } = {},
): RunView {
  return {
    runId,
    origin,
    status: 'queued',
    workflowName: init.workflowName ?? '',
    error: null,
    steps: init.steps ?? [],
    logs: [],
    lastSeq: 0,
    pending: {},
    connection: 'connecting',
    onCanvas: init.onCanvas ?? false,
    createdAt: init.createdAt ?? null,
    cancelRequested: false,
    order: null,
    waiting: null,
    startedAt: null,
    finishedAt: null,
    trigger: null,
    parentRunId: null,
    parentStepId: null,
  };
}

/** Whether the run is held up, so the panel says why: still queued, or a step waits (a delay, a retry's backoff). */
export function waits(run: RunView): boolean {
  return !isTerminal(run.status) && (run.status === 'queued' || run.steps.some((s) => s.status === 'waiting'));
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

export function applyEvent(run: RunView, event: RunEvent): RunView {
  if (event.runId !== run.runId || !Number.isInteger(event.seq) || event.seq <= run.lastSeq) return run;
  if (event.seq > run.lastSeq + 1) {
    if (run.pending[event.seq]) return run;
    return { ...run, pending: { ...run.pending, [event.seq]: event } };
  }
  let next = applyOne(run, event);
  let pending = run.pending;
  while (pending[next.lastSeq + 1]) {
    const { [next.lastSeq + 1]: ready, ...rest } = pending;
    pending = rest;
    next = applyOne(next, ready as RunEvent);
  }
  return pending === run.pending ? next : { ...next, pending };
}

export function applyEvents(run: RunView, events: readonly RunEvent[]): RunView {
  return events.reduce(applyEvent, run);
}

function applyOne(run: RunView, event: RunEvent): RunView {
  const base = { ...run, lastSeq: event.seq };
  switch (event.type) {
    case 'run': {
      const ts = event.ts || null;
      return {
        ...base,
        status: event.status,
        error: event.error ?? null,
        // Queued is waiting for an orchestrator, not running: the span starts when the run does.
        startedAt: run.startedAt ?? (event.status === 'queued' ? null : ts),
        finishedAt: isTerminal(event.status) ? ts : run.finishedAt,
      };
    }
    case 'step':
      return { ...base, steps: upsertStep(run.steps, event.step) };
    case 'log':
      return { ...base, logs: [...run.logs, { ...event.log, seq: event.seq }] };
    default:
      return base;
  }
}

export function stepView(step: Step): StepView {
  return {
    id: step.id,
    nodeId: step.nodeId ?? step.id,
    name: step.name,
    type: step.type,
    status: step.status,
    durationMs: step.durationMs ?? durationBetween(step.startedAt, step.finishedAt),
    startedAt: step.startedAt,
    finishedAt: step.finishedAt,
    attempt: step.attempt,
    error: step.error,
    output: step.output ?? null,
    request: step.request ?? null,
    outputRef: step.outputRef ?? null,
    attempts: step.attempts ?? [],
    handles: step.handles ?? null,
    waitUntil: step.waitUntil ?? null,
    skipReason: step.skipReason ?? null,
    pinned: step.pinned ?? false,
    calls: step.calls ?? [],
    errorHandled: step.errorHandled ?? false,
    items: step.items ?? null,
    childRunId: step.childRunId ?? null,
    resumeUrl: step.resumeUrl ?? null,
    wait: step.wait ?? null,
  };
}

function upsertStep(steps: readonly StepView[], step: Step): StepView[] {
  const view = stepView(step);
  const index = steps.findIndex((s) => s.id === view.id || (s.placeholder && s.nodeId === view.nodeId));
  if (index === -1) return [...steps, view];
  const previous = steps[index] as StepView;
  const merged: StepView = { ...view, name: view.name || previous.name };
  return steps.map((s, i) => (i === index ? merged : s));
}

function durationBetween(startedAt: string | null, finishedAt: string | null): number | null {
  if (!startedAt || !finishedAt) return null;
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/**
 * What GET /v1/runs/{id} says about a run the events are still filling in: the order the server lists its
 * steps in (graph order), and steps no event has reported yet. A step an event reported is left alone: the
 * events are applied in order, the snapshot may be older.
 */
export function withSnapshot(run: RunView, snapshot: Run): RunView {
  if (snapshot.id !== run.runId) return run;
  const steps = [...run.steps];
  for (const step of snapshot.steps) {
    const at = steps.findIndex((s) => s.id === step.id || s.nodeId === (step.nodeId ?? step.id));
    if (at === -1) steps.push(stepView(step));
    else if (steps[at]!.placeholder) steps[at] = { ...stepView(step), name: stepView(step).name || steps[at]!.name, placeholder: true };
  }
  return {
    ...run,
    steps,
    order: snapshot.steps.map((s) => s.id),
    workflowName: run.workflowName || snapshot.workflowName,
    createdAt: run.createdAt ?? snapshot.createdAt,
    waiting: snapshot.waiting ?? null,
    trigger: snapshot.trigger ?? null,
    parentRunId: snapshot.parentRunId ?? null,
    parentStepId: snapshot.parentStepId ?? null,
  };
}

/** What started a run, when another run did: a subworkflow step, a loop (one item), or a failure (an error
 * workflow's run, which names the failed run in its payload, `payload.failedRun`, rather than as its parent). */
export interface RunParent {
  runId: string;
  stepId: string | null;
  why: 'subworkflow' | 'loop' | 'error';
}

export function startedByRun(run: RunView): RunParent | null {
  if (run.parentRunId) {
    return { runId: run.parentRunId, stepId: run.parentStepId, why: run.trigger === 'loop' ? 'loop' : run.trigger === 'error' ? 'error' : 'subworkflow' };
  }
  if (run.trigger !== 'error') return null;
  // The trigger's output is the run's inputs: `{payload: {failedRun: {id, failedStepId…}}}`.
  for (const step of run.steps) {
    const failed = failedRunOf(step.output);
    if (failed) return { runId: failed.id, stepId: failed.stepId, why: 'error' };
  }
  return null;
}

function failedRunOf(output: unknown): { id: string; stepId: string | null } | null {
  const payload = isObject(output) ? output.payload : undefined;
  const failed = isObject(payload) ? payload.failedRun : undefined;
  if (!isObject(failed) || typeof failed.id !== 'string') return null;
  return { id: failed.id, stepId: typeof failed.failedStepId === 'string' ? failed.failedStepId : null };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The run's steps in graph order: the server's when known, else as they were seeded or reported. */
export function orderedSteps(run: RunView): StepView[] {
  if (!run.order) return run.steps;
  const rank = new Map(run.order.map((id, index) => [id, index]));
  return [...run.steps].sort((a, b) => (rank.get(a.id) ?? rank.size) - (rank.get(b.id) ?? rank.size));
}

/** Status per canvas node id, for node badges. */
export function statusByNode(run: RunView | null): Record<string, StepStatus> {
  if (!run || !run.onCanvas) return {};
  return Object.fromEntries(run.steps.map((s) => [s.nodeId, s.status]));
}

/** The run's wall-clock duration, from the moment it started to the moment it ended; null until both are known. */
export function runDurationMs(run: Pick<RunView, 'startedAt' | 'finishedAt'>): number | null {
  return durationBetween(run.startedAt, run.finishedAt);
}

/** The reason in a server's "Run cancelled…" log line, worded to follow "Cancelled": "by admin", "" for none (or for the
 * old "through the API", which named the mechanism rather than anyone), null for any other line. */
export function cancelReasonOf(msg: string): string | null {
  const match = /^Run cancelled\b(.*)$/.exec(msg);
  if (!match) return null;
  let rest = (match[1] ?? '').trim();
  if (rest.startsWith(':')) rest = rest.slice(1).trim();
  if (rest.startsWith('cancelled ')) rest = rest.slice('cancelled '.length).trim();
  if (/^through the API$/i.test(rest)) return '';
  return rest === '' || rest.startsWith('by ') ? rest : `: ${rest}`;
}

/** Why a cancelled run was cancelled, as a sentence for people ("Cancelled by admin"), from the server's log line. */
export function cancelNote(run: Pick<RunView, 'status' | 'logs'>): string | null {
  if (run.status !== 'cancelled') return null;
  for (const log of [...run.logs].reverse()) {
    const reason = cancelReasonOf(log.msg);
    if (reason !== null) return reason === '' ? 'Cancelled' : `Cancelled${reason.startsWith(':') ? '' : ' '}${reason}`;
  }
  return 'Cancelled';
}
