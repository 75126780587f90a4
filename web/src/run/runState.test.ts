import { describe, expect, it } from 'vitest';
import type { RunEvent, Step } from '../api/types';
import { formatDuration, formatRelative } from './format';
import { applyEvent, applyEvents, createRunView, statusByNode } from './runState';

// Cast: the wire type grows fields (e.g. `worker`) that these tests do not care about.
const step = (status: Step['status'], extra: Partial<Step> = {}): Step =>
  ({
    id: 'http-1',
    nodeId: 'http-1',
    name: 'Notify Slack',
    type: 'http_request_node',
    status,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    attempt: 1,
    error: null,
    output: null,
    ...extra,
  }) as Step;

const events: RunEvent[] = [
  { runId: 'r1', seq: 1, ts: 't1', type: 'run', status: 'running', error: null },
  { runId: 'r1', seq: 2, ts: 't2', type: 'step', step: step('running') },
  { runId: 'r1', seq: 3, ts: 't3', type: 'log', log: { ts: 't3', level: 'INFO', msg: 'POST … → HTTP 200 in 87 ms', stepId: 'http-1' } },
  { runId: 'r1', seq: 4, ts: 't4', type: 'step', step: step('succeeded', { durationMs: 312 }) },
  { runId: 'r1', seq: 5, ts: 't5', type: 'run', status: 'succeeded', error: null },
];

const fresh = () => createRunView('r1', 'canvas', { onCanvas: true });

describe('applying run events', () => {
  it('applies events in order', () => {
    const run = applyEvents(fresh(), events);
    expect(run.status).toBe('succeeded');
    expect(run.lastSeq).toBe(5);
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', durationMs: 312, name: 'Notify Slack' });
    expect(run.logs.map((l) => l.seq)).toEqual([3]);
    expect(statusByNode(run)).toEqual({ 'http-1': 'succeeded' });
  });

  it('ignores duplicates, so a replay after reconnecting shows nothing twice', () => {
    const once = applyEvents(fresh(), events);
    const twice = applyEvents(once, [...events, ...events]);
    expect(twice).toBe(once);
    expect(twice.logs).toHaveLength(1);
  });

  it('holds early events until the gap is filled, whatever the arrival order', () => {
    const inOrder = applyEvents(fresh(), events);
    for (const order of [[4, 2, 0, 3, 1], [1, 0, 2, 4, 3], [4, 3, 2, 1, 0]]) {
      let run = fresh();
      for (const i of order.slice(0, -1)) run = applyEvent(run, events[i]!);
      expect(run.status).not.toBe('succeeded');
      run = applyEvent(run, events[order.at(-1)!]!);
      expect(run).toEqual(inOrder);
      expect(run.pending).toEqual({});
    }
  });

  it('does not apply a buffered duplicate twice', () => {
    let run = applyEvent(fresh(), events[2]!);
    run = applyEvent(run, events[2]!);
    run = applyEvents(run, [events[0]!, events[1]!]);
    expect(run.logs).toHaveLength(1);
    expect(run.lastSeq).toBe(3);
  });

  it('ignores events of another run and malformed seqs', () => {
    const run = fresh();
    expect(applyEvent(run, { ...events[0]!, runId: 'other' })).toBe(run);
    expect(applyEvent(run, { ...events[0]!, seq: 0 })).toBe(run);
    expect(applyEvent(run, { ...events[0]!, seq: 1.5 })).toBe(run);
  });

  it('replaces a canvas placeholder step when the server reports it', () => {
    const run = createRunView('r1', 'canvas', {
      onCanvas: true,
      steps: [{ ...step('queued'), id: 'http-1', durationMs: null, placeholder: true, nodeId: 'http-1' }],
    });
    const next = applyEvent(run, { runId: 'r1', seq: 1, ts: 't', type: 'step', step: step('running', { id: 'step-abc' }) });
    expect(next.steps).toHaveLength(1);
    expect(next.steps[0]).toMatchObject({ id: 'step-abc', nodeId: 'http-1', status: 'running' });
    expect(next.steps[0]?.placeholder).toBeUndefined();
  });

  it('derives a duration from start and finish times when none is given', () => {
    const run = applyEvent(fresh(), {
      runId: 'r1',
      seq: 1,
      ts: 't',
      type: 'step',
      step: step('failed', { startedAt: '2026-11-21T13:40:00.000Z', finishedAt: '2026-11-21T13:40:01.400Z' }),
    });
    expect(run.steps[0]?.durationMs).toBe(1400);
  });

  it('shows no node statuses for a run that is not the canvas graph', () => {
    const run = applyEvents(createRunView('r1', 'history'), events);
    expect(statusByNode(run)).toEqual({});
  });
});

describe('formatting', () => {
  it('formats durations for people', () => {
    expect(formatDuration(312)).toBe('312 ms');
    expect(formatDuration(1400)).toBe('1.4 s');
    expect(formatDuration(59_940)).toBe('59.9 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(null)).toBe('—');
  });

  it('formats relative times', () => {
    const now = Date.parse('2026-11-21T13:40:00Z');
    expect(formatRelative('2026-11-21T13:39:58Z', now)).toBe('just now');
    expect(formatRelative('2026-11-21T13:35:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-11-21T10:40:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-11-20T12:00:00Z', now)).toBe('yesterday');
  });
});
