// A step's tries as the output inspector shows them (pure): the last one's request and response are the
// step's own; earlier ones keep theirs (bodies cut to 4 KiB by the orchestrator).

import type { StepAttempt, StepRequest, StepStatus } from '../api/types';
import { isPlainObject } from '../graph/document';
import type { StepView } from './runState';

/** What an HTTP step's output looks like: `{status, headers, body, truncated?}`. */
export interface Response {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
  truncated: boolean;
}

export function responseOf(output: unknown): Response | null {
  if (!isPlainObject(output) || typeof output.status !== 'number' || !('body' in output)) return null;
  return {
    status: output.status,
    headers: isPlainObject(output.headers) ? output.headers : {},
    body: output.body,
    truncated: output.truncated === true,
  };
}

export interface Attempt {
  attempt: number;
  /** The step's last try: its request and response are the step's own, kept up to 64 KiB. */
  last: boolean;
  status: StepStatus;
  durationMs: number | null;
  error: string | null;
  worker: string | null;
  request: StepRequest | null;
  output: unknown;
  retryInMs: number | null;
}

/** The tries to show: the step's own attempts (the last one's result is the step's), or the step as one. */
export function attemptsOf(step: StepView): Attempt[] {
  if (step.attempts.length === 0) {
    if (step.status === 'queued' || step.status === 'skipped' || (step.status === 'cancelled' && !step.startedAt)) return [];
    return [
      {
        attempt: Math.max(1, step.attempt),
        last: true,
        status: step.status,
        durationMs: step.durationMs,
        error: step.error,
        worker: null,
        request: step.request,
        output: step.output,
        retryInMs: null,
      },
    ];
  }
  return step.attempts.map((a: StepAttempt, index) => {
    const last = index === step.attempts.length - 1;
    return {
      attempt: a.attempt,
      last,
      status: a.status,
      durationMs: a.durationMs,
      error: a.error,
      worker: a.worker,
      request: a.request ?? (last ? step.request : null),
      output: last && (a.output === null || a.output === undefined) ? step.output : a.output,
      retryInMs: a.retryInMs,
    };
  });
}

/** A value as readable text: objects and JSON text pretty-printed, other text as it is. */
export function prettyBody(value: unknown): string {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^[[{]/.test(trimmed)) {
      try {
        return JSON.stringify(JSON.parse(trimmed), null, 2);
      } catch {
        return value; // Looked like JSON but is not (or was cut): show it as sent.
      }
    }
    return value;
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}
