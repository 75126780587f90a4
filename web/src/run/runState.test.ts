import { describe, expect, it } from 'vitest';
import type { RunEvent, Step } from '../api/types';
import { formatDuration, formatRelative, plainLogMessage, shortRunId } from './format';
import { applyEvent, applyEvents, cancelNote, createRunView, runDurationMs, startedByRun, stepView, statusByNode } from './runState';

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
      steps: [{ ...step('queued'), calls: [], id: 'http-1', durationMs: null, placeholder: true, nodeId: 'http-1' }],
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

describe('the run as a whole', () => {
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 9, 0, 0, ms)).toISOString();
  const retried: RunEvent[] = [
    { runId: 'r1', seq: 1, ts: at(0), type: 'run', status: 'queued', error: null },
    { runId: 'r1', seq: 2, ts: at(40), type: 'run', status: 'running', error: null },
    // Three tries of 3 ms each, with waits between them that no step's duration counts.
    { runId: 'r1', seq: 3, ts: at(1335), type: 'step', step: step('succeeded', { durationMs: 3, attempt: 3 }) },
    { runId: 'r1', seq: 4, ts: at(1340), type: 'run', status: 'succeeded', error: null },
  ];

  it('lasts from the moment it started to the moment it ended, retry waits included, not its steps’ sum', () => {
    const run = applyEvents(fresh(), retried);
    expect(runDurationMs(run)).toBe(1300);
    expect(formatDuration(runDurationMs(run))).toBe('1.3 s');
    expect(runDurationMs(applyEvents(fresh(), retried.slice(0, 3)))).toBeNull(); // not over yet
  });

  it('says why it was cancelled in words, never the mechanism', () => {
    const cancelled = (msg: string) =>
      applyEvents(fresh(), [
        { runId: 'r1', seq: 1, ts: 't1', type: 'log', log: { ts: 't1', level: 'WARN', msg, stepId: null } },
        { runId: 'r1', seq: 2, ts: 't2', type: 'run', status: 'cancelled', error: null },
      ]);
    expect(cancelNote(cancelled('Run cancelled: cancelled by admin'))).toBe('Cancelled by admin');
    expect(cancelNote(cancelled('Run cancelled: cancelled through the API'))).toBe('Cancelled');
    expect(cancelNote(cancelled('Run cancelled'))).toBe('Cancelled');
    expect(cancelNote(cancelled('Run cancelled by admin'))).toBe('Cancelled by admin');
    expect(cancelNote(cancelled('Run cancelled: the deploy window closed'))).toBe('Cancelled: the deploy window closed');
    expect(plainLogMessage('Run cancelled by admin')).toBe('Run cancelled by admin');
    expect(plainLogMessage('Run cancelled: cancelled through the API')).toBe('Run cancelled');
    expect(plainLogMessage('Run cancelled: cancelled by ci')).toBe('Run cancelled by ci');
    expect(plainLogMessage('POST … → HTTP 200')).toBe('POST … → HTTP 200');
  });

  it('is named by the end of its id, where runs started together differ', () => {
    const a = '0193f2c1a7b04e5f8a9b1c2d3e4f5a6b';
    const b = '0193f2c1a7b04e5f8a9b1c2d3e4f0011';
    expect(shortRunId(a)).not.toBe(shortRunId(b));
    expect(shortRunId(a)).toBe('…3e4f5a6b');
  });
});

describe('which run started a run', () => {
  it('is none for a run started by a person, an API call or a trigger', () => {
    expect(startedByRun({ ...createRunView('r1', 'history'), trigger: 'manual' })).toBeNull();
  });

  it('is the parent run and step of a subworkflow’s child run, or of a loop’s item', () => {
    const child = { ...createRunView('c1', 'history'), trigger: 'subworkflow' as const, parentRunId: 'p1', parentStepId: 'sub_1' };
    expect(startedByRun(child)).toEqual({ runId: 'p1', stepId: 'sub_1', why: 'subworkflow' });
    expect(startedByRun({ ...child, trigger: 'loop' })).toEqual({ runId: 'p1', stepId: 'sub_1', why: 'loop' });
  });

  it('is the failed run an error workflow’s run names in its payload', () => {
    const start = stepView({ id: 'start', nodeId: 'start', name: 'Start', type: 'start', status: 'succeeded',
      output: { payload: { failedRun: { id: 'f1', failedStepId: 'http_1', error: 'boom' } } } } as Step);
    const run = { ...createRunView('e1', 'history'), trigger: 'error' as const, steps: [start] };
    expect(startedByRun(run)).toEqual({ runId: 'f1', stepId: 'http_1', why: 'error' });
    expect(startedByRun({ ...run, steps: [] })).toBeNull();
  });
});
