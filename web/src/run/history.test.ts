import { describe, expect, it, vi } from 'vitest';
import { RunsLive, asRunSummary } from '../api/runsLive';
import type { RunSummary } from '../api/types';
import { withSummary } from './history';

const run = (id: string, createdAt: string, extra: Partial<RunSummary> = {}): RunSummary => ({
  id,
  status: 'running',
  workflowName: 'Hooked',
  workflowId: 'wf1',
  workflowVersion: 1,
  trigger: 'webhook',
  startedBy: null,
  parentRunId: null,
  durationMs: null,
  error: null,
  createdAt,
  updatedAt: createdAt,
  ...extra,
});

describe('History, live', () => {
  const listed = [run('r3', '2026-01-01T09:03:00Z'), run('r1', '2026-01-01T09:01:00Z')];

  it('puts a new run where the server would list it, newest first', () => {
    expect(withSummary(listed, run('r4', '2026-01-01T09:04:00Z'), {}, false).map((r) => r.id)).toEqual(['r4', 'r3', 'r1']);
    expect(withSummary(listed, run('r2', '2026-01-01T09:02:00Z'), {}, false).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    // Older than the page: it is on a later page, unless there is none.
    expect(withSummary(listed, run('r0', '2026-01-01T09:00:00Z'), {}, false).map((r) => r.id)).toEqual(['r3', 'r1']);
    expect(withSummary(listed, run('r0', '2026-01-01T09:00:00Z'), {}, true).map((r) => r.id)).toEqual(['r3', 'r1', 'r0']);
    expect(withSummary([], run('r0', '2026-01-01T09:00:00Z'), {}, true).map((r) => r.id)).toEqual(['r0']);
  });

  it('updates a listed run in place, and never with an older summary of it', () => {
    const done = run('r1', '2026-01-01T09:01:00Z', { status: 'succeeded', durationMs: 1300, updatedAt: '2026-01-01T09:01:01Z' });
    const after = withSummary(listed, done, {}, false);
    expect(after[1]).toEqual(done);
    expect(withSummary(after, run('r1', '2026-01-01T09:01:00Z'), {}, false)[1]).toEqual(done);
  });

  it('keeps to the filters', () => {
    expect(withSummary(listed, run('r4', '2026-01-01T09:04:00Z', { workflowId: 'wf2' }), { workflowId: 'wf1' }, false)).toHaveLength(2);
    const failedOnly = { status: 'failed' as const };
    expect(withSummary(listed, run('r4', '2026-01-01T09:04:00Z'), failedOnly, false)).toHaveLength(2);
    const failed = run('r4', '2026-01-01T09:04:00Z', { status: 'failed', updatedAt: '2026-01-01T09:04:01Z' });
    expect(withSummary(listed, failed, failedOnly, false)[0]).toEqual(failed);
    // A listed run that no longer matches leaves.
    expect(withSummary(listed, { ...listed[0]!, status: 'succeeded', updatedAt: '2026-01-01T09:05:00Z' }, { status: 'running' }, false).map((r) => r.id)).toEqual(['r1']);
  });
});

/** A WebSocket stand-in the test drives. */
class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

describe('the live runs socket', () => {
  it('delivers summaries, reconnects after a drop with growing waits, and stops for good', () => {
    vi.useFakeTimers();
    FakeSocket.made = [];
    const summaries: string[] = [];
    const opened = vi.fn();
    const delay = vi.fn((attempt: number) => 100 * 2 ** attempt);
    const live = new RunsLive({
      baseUrl: 'ws://gateway',
      onSummary: (s) => summaries.push(`${s.id}:${s.status}`),
      onOpen: opened,
      delay,
      createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    });
    live.start();
    const first = FakeSocket.made[0]!;
    expect(first.url).toBe('ws://gateway/v1/runs/live');
    first.open();
    first.onmessage?.({ data: JSON.stringify(run('r1', 't')) });
    first.onmessage?.({ data: 'not json' });
    first.onmessage?.({ data: JSON.stringify({ hello: 1 }) });
    expect(summaries).toEqual(['r1:running']);
    expect(opened).toHaveBeenCalledTimes(1);

    first.drop();
    vi.advanceTimersByTime(99);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    FakeSocket.made[1]!.drop(); // refused again: a longer wait
    expect(delay.mock.calls.map((c) => c[0])).toEqual([0, 1]);
    vi.advanceTimersByTime(200);
    FakeSocket.made[2]!.open();
    expect(opened).toHaveBeenCalledTimes(2); // the caller reloads: what changed while down is not replayed
    FakeSocket.made[2]!.drop();
    expect(delay.mock.calls.at(-1)![0]).toBe(0); // a connection that opened starts the backoff again

    live.stop();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.made).toHaveLength(3);
    vi.useRealTimers();
  });

  it('reads only objects shaped like a run summary', () => {
    expect(asRunSummary(null)).toBeNull();
    expect(asRunSummary({ id: 'r1', status: 'queued' })).toBeNull();
    expect(asRunSummary(run('r1', 't'))).not.toBeNull();
  });
});
