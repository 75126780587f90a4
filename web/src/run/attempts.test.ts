import { describe, expect, it } from 'vitest';
import type { StepAttempt } from '../api/types';
import { attemptsOf, prettyBody, responseOf } from './attempts';
import type { StepView } from './runState';

const request = { method: 'GET', url: 'https://api.example/order', headers: { Authorization: '••••••••' }, body: null, truncated: false };

function step(patch: Partial<StepView>): StepView {
  return {
    id: 'http_1', nodeId: 'http_1', name: 'Fetch', type: 'http', status: 'succeeded', durationMs: 20, startedAt: 't', finishedAt: 't',
    attempt: 1, error: null, output: null, request: null, outputRef: null, attempts: [], handles: null, waitUntil: null, skipReason: null, pinned: false, calls: [], errorHandled: false,
    items: null, childRunId: null, resumeUrl: null, wait: null,
    ...patch,
  };
}

const attempt = (n: number, patch: Partial<StepAttempt>): StepAttempt => ({
  attempt: n, status: 'failed', startedAt: 't', finishedAt: 't', durationMs: 5, error: null, worker: 'w:1', request: null, output: null, retryInMs: null,
  ...patch,
});

describe('attempts shown for a step', () => {
  it('give the last try the step’s own request and response, and keep earlier ones as recorded', () => {
    const ok = { status: 200, headers: {}, body: { id: 1 } };
    const tries = attemptsOf(
      step({
        attempt: 2,
        request,
        output: ok,
        attempts: [
          attempt(1, { error: 'HTTP 503', request, output: { status: 503, headers: {}, body: '{"busy": tr', truncated: true }, retryInMs: 1000 }),
          attempt(2, { status: 'succeeded' }),
        ],
      }),
    );
    expect(tries.map((t) => [t.attempt, t.last, t.status, t.retryInMs])).toEqual([
      [1, false, 'failed', 1000],
      [2, true, 'succeeded', null],
    ]);
    expect(tries[1]!.request).toBe(request);
    expect(tries[1]!.output).toBe(ok);
    expect(responseOf(tries[0]!.output)).toEqual({ status: 503, headers: {}, body: '{"busy": tr', truncated: true });
  });

  it('show a step without attempts as one try, and none for a step that never ran', () => {
    expect(attemptsOf(step({ output: { a: 1 } })).map((t) => [t.attempt, t.output])).toEqual([[1, { a: 1 }]]);
    expect(attemptsOf(step({ status: 'skipped', skipReason: 'branch not taken' }))).toEqual([]);
    expect(attemptsOf(step({ status: 'queued' }))).toEqual([]);
    expect(responseOf(true)).toBeNull();
  });

  it('pretty-print JSON bodies, even as text, and leave other text (or JSON cut short) as it came', () => {
    expect(prettyBody({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyBody('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyBody('{"a":1, "b": tr')).toBe('{"a":1, "b": tr');
    expect(prettyBody('plain <b>html</b>')).toBe('plain <b>html</b>');
  });
});
