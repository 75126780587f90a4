import { describe, expect, it, vi } from 'vitest';
import { ApiError, type Api } from '../api/client';
import { fakeApi, testCatalogue } from '../api/fake';
import type { EventStreamOptions } from '../api/events';
import type { RunEvent, Step } from '../api/types';
import type { GraphDocument } from '../graph/document';
import { createBuilderStore } from '../store/store';
import { orderedSteps, startedByRun } from '../run/runState';
import { createRunController } from './runController';

const graph: GraphDocument = {
  nodes: [
    { id: 'start', type: 'start', position: { x: 0, y: 0 }, data: { label: 'Start' } },
    { id: 'http-1', type: 'http', position: { x: 280, y: 0 }, data: { label: 'Ping', config: { method: 'GET', url: 'https://a.example' } } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'http-1' }],
  meta: { name: 'Ping', version: 1 },
};

function setup(api: Api) {
  const store = createBuilderStore({ catalogue: testCatalogue(), initial: graph });
  const streams: { runId: string; options: EventStreamOptions; stopped: boolean }[] = [];
  let n = 0;
  const runs = createRunController(store, api, {
    uuid: () => `key-${++n}`,
    createStream: (runId, options) => {
      const stream = { runId, options, stopped: false };
      streams.push(stream);
      return { start: () => options.onState('live'), stop: () => void (stream.stopped = true) };
    },
  });
  return { store, runs, streams };
}

describe('run controller', () => {
  it('starts one run for a double click, with one idempotency key', async () => {
    const api = fakeApi();
    const { store, runs, streams } = setup(api);
    await Promise.all([runs.start(), runs.start()]);
    expect(api.createRun).toHaveBeenCalledTimes(1);
    expect(api.createRun).toHaveBeenCalledWith(expect.objectContaining({ meta: graph.meta }), 'key-1', {}, {});
    expect(streams).toHaveLength(1);
    expect(store.getState().run).toMatchObject({ runId: 'r1', origin: 'canvas', onCanvas: true });
    expect(store.getState().run?.steps.map((s) => [s.nodeId, s.status])).toEqual([['http-1', 'queued']]);
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['Run started: Ping']);

    await runs.start();
    expect(api.createRun).toHaveBeenLastCalledWith(expect.anything(), 'key-2', {}, {});
  });

  it('reuses the key after a request that got no answer', async () => {
    const createRun = vi
      .fn<Api['createRun']>()
      .mockRejectedValueOnce(new ApiError(0, 'network', 'Cannot reach the AutomateOS server'))
      .mockResolvedValue({ runId: 'r1' });
    const { runs } = setup(fakeApi({ createRun }));
    await runs.start();
    await runs.start();
    expect(createRun.mock.calls.map((c) => c[1])).toEqual(['key-1', 'key-1']);
  });

  it('shows server validation errors from a 422 on the nodes', async () => {
    const createRun = vi.fn<Api['createRun']>().mockRejectedValue(
      new ApiError(422, 'validation_error', 'graph is invalid', [
        { field: 'graph.nodes[1].data.config.url', reason: 'host not allowed', nodeId: 'http-1', edgeId: null },
      ]),
    );
    const { store, runs } = setup(fakeApi({ createRun }));
    await runs.start();
    expect(store.getState().serverIssues).toEqual([{ message: 'URL: host not allowed', nodeId: 'http-1', field: 'url', source: 'server' }]);
    expect(store.getState().toasts.at(-1)?.text).toBe('Can’t run yet — Ping: URL: host not allowed');
  });

  it('applies streamed events, resumes after the last seq and announces the end once', async () => {
    const { store, runs, streams } = setup(fakeApi());
    await runs.start();
    const { options } = streams[0]!;
    const emit = (e: RunEvent) => options.onEvent(e);
    emit({ runId: 'r1', seq: 1, ts: '2026-01-01T09:00:00.000Z', type: 'run', status: 'running', error: null });
    emit({ runId: 'r1', seq: 3, ts: '2026-01-01T09:00:02.500Z', type: 'run', status: 'succeeded', error: null });
    expect(options.lastSeq()).toBe(1);
    expect(options.isDone()).toBe(false);
    emit({
      runId: 'r1',
      seq: 2,
      ts: 't',
      type: 'step',
      step: { id: 'http-1', nodeId: 'http-1', name: 'Ping', type: 'http_request_node', status: 'succeeded', startedAt: null, finishedAt: null, durationMs: 1400, attempt: 1, error: null, output: null } as Step,
    });
    emit({ runId: 'r1', seq: 3, ts: '2026-01-01T09:00:02.500Z', type: 'run', status: 'succeeded', error: null });
    expect(options.lastSeq()).toBe(3);
    expect(options.isDone()).toBe(true);
    // The run's own span (start to end), not the sum of its steps' durations (1.4 s): waits count.
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['Run started: Ping', 'Ping succeeded in 2.5 s']);
  });

  it('takes the last run’s toasts away when a new run starts, and everything when cleared', async () => {
    const { store, runs, streams } = setup(fakeApi());
    await runs.start();
    streams[0]!.options.onEvent({ runId: 'r1', seq: 1, ts: 't', type: 'run', status: 'failed', error: 'HTTP 500' });
    const unrelated = store.getState().pushToast('success', 'Saved Ping as version 1');
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['Run started: Ping', 'Ping failed: HTTP 500', 'Saved Ping as version 1']);
    await runs.start();
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['Saved Ping as version 1', 'Run started: Ping']);
    expect(store.getState().toasts[0]!.id).toBe(unrelated);

    runs.clear();
    expect(store.getState().run).toBeNull();
    expect(streams.at(-1)!.stopped).toBe(true);
    expect(store.getState().toasts.map((t) => t.text)).toEqual(['Saved Ping as version 1']);
  });

  it('lists steps in the order the server gives, whatever order the events come in', async () => {
    const snapshot = {
      id: 'r1',
      status: 'running' as const,
      workflowName: 'Ping',
      workflowId: null,
      workflowVersion: null,
      trigger: 'manual' as const,
      startedBy: null,
      parentRunId: null,
      parentStepId: null,
      waiting: null,
      logs: [],
      error: null,
      createdAt: 'x',
      updatedAt: 'x',
      steps: [
        { id: 'start', nodeId: 'start', name: 'Start', type: 'start', status: 'succeeded' } as Step,
        { id: 'http-1', nodeId: 'http-1', name: 'Ping', type: 'http', status: 'queued' } as Step,
      ],
    };
    const { store, runs, streams } = setup(fakeApi({ getRun: vi.fn(async () => snapshot) }));
    await runs.start();
    const step = (id: string, status: Step['status']) => ({ ...snapshot.steps.find((s) => s.id === id)!, status }) as Step;
    streams[0]!.options.onEvent({ runId: 'r1', seq: 1, ts: 't', type: 'step', step: step('http-1', 'running') });
    await vi.waitFor(() => expect(store.getState().run?.order).toEqual(['start', 'http-1']));
    const run = store.getState().run!;
    expect(orderedSteps(run).map((s) => [s.id, s.status])).toEqual([
      ['start', 'succeeded'],
      ['http-1', 'running'],
    ]);
  });

  it('says why a run waits while it waits, asking the server again, and stops once it goes on', async () => {
    vi.useFakeTimers();
    try {
      const reasons = ['queued: no orchestrator has picked the run up yet', 'step pause is a delay, waiting until 12:00'];
      let asked = 0;
      const getRun = vi.fn(async () => ({
        id: 'r1', status: 'queued' as const, workflowName: 'Ping', workflowId: null, workflowVersion: null,
        trigger: 'manual' as const, startedBy: null, parentRunId: null, parentStepId: null, waiting: reasons[Math.min(asked++, 1)]!, logs: [], error: null,
        createdAt: 'x', updatedAt: 'x', steps: [],
      }));
      const { store, runs, streams } = setup(fakeApi({ getRun }));
      await runs.start();
      await vi.waitFor(() => expect(store.getState().run?.waiting).toBe(reasons[0]));
      expect(getRun).toHaveBeenCalledTimes(1);

      const emit = streams[0]!.options.onEvent;
      const step = (status: Step['status']) =>
        ({ id: 'http-1', nodeId: 'http-1', name: 'Ping', type: 'http', status, startedAt: null, finishedAt: null, durationMs: null, attempt: 1, error: null, output: null }) as Step;
      emit({ runId: 'r1', seq: 1, ts: 't', type: 'run', status: 'running', error: null });
      expect(store.getState().run?.waiting).toBeNull(); // running, nothing waits: no stale sentence
      emit({ runId: 'r1', seq: 2, ts: 't', type: 'step', step: step('waiting') });
      await vi.waitFor(() => expect(store.getState().run?.waiting).toBe(reasons[1]));
      await vi.advanceTimersByTimeAsync(3000);
      expect(getRun.mock.calls.length).toBeGreaterThanOrEqual(3); // asked again while it waits

      emit({ runId: 'r1', seq: 3, ts: 't', type: 'step', step: step('succeeded') });
      expect(store.getState().run?.waiting).toBeNull();
      const calls = getRun.mock.calls.length;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(getRun).toHaveBeenCalledTimes(calls); // no more questions once it goes on
    } finally {
      vi.useRealTimers();
    }
  });

  it('replays a history run and shows its statuses on the canvas only if it is the canvas graph', async () => {
    const { store, runs, streams } = setup(fakeApi());
    runs.open({ id: 'old', status: 'failed', workflowName: 'Ping', workflowId: null, workflowVersion: null, trigger: 'manual', startedBy: null, parentRunId: null, durationMs: null, error: null, createdAt: 'x', updatedAt: 'x' });
    const step = { id: 'http-1', nodeId: 'http-1', name: 'Ping', type: 'http_request_node', status: 'failed' as const, startedAt: null, finishedAt: null, durationMs: 5, attempt: 1, error: 'boom', output: null } as Step;
    streams[0]!.options.onEvent({ runId: 'old', seq: 1, ts: 't', type: 'step', step });
    expect(store.getState().run?.onCanvas).toBe(true);

    runs.open({ id: 'other', status: 'failed', workflowName: 'Ping', workflowId: null, workflowVersion: null, trigger: 'manual', startedBy: null, parentRunId: null, durationMs: null, error: null, createdAt: 'x', updatedAt: 'x' });
    expect(streams[1]!.stopped).toBe(false);
    expect(streams[1]!.options.lastSeq()).toBe(0);
    streams[1]!.options.onEvent({ runId: 'other', seq: 1, ts: 't', type: 'step', step: { ...step, name: 'Renamed since' } });
    expect(store.getState().run?.onCanvas).toBe(false);
    expect(store.getState().toasts).toEqual([]);
  });
});

describe('run inputs', () => {
  const withInputs: GraphDocument = {
    ...graph,
    nodes: [
      graph.nodes[0]!,
      { ...graph.nodes[1]!, data: { label: 'Ping', config: { method: 'POST', url: 'https://a.example/{{databaseId}}', json_body: { t: '{{payload.title}}' } } } },
    ],
  };

  const reporting = (inputs: string[]) =>
    vi.fn<Api['validate']>(async () => ({ ok: true as const, workflowName: 'Ping', steps: [], inputs }));

  it('asks for the inputs the server says the workflow uses instead of starting', async () => {
    const api = fakeApi({ validate: reporting(['databaseId', 'payload.title']) });
    const { store, runs } = setup(api);
    store.getState().loadDocument(withInputs);
    await runs.request();
    expect(api.createRun).not.toHaveBeenCalled();
    // payload.… is the trigger's, never a run input, even from a server that still reports it.
    expect(store.getState().inputsPrompt).toEqual(['databaseId']);
    await runs.request();
    expect(api.createRun).not.toHaveBeenCalled();

    store.getState().setInputsPrompt(null);
    await runs.start({ databaseId: 'db', payload: { title: 'Hi' } });
    expect(api.createRun).toHaveBeenCalledWith(expect.anything(), 'key-1', { databaseId: 'db', payload: { title: 'Hi' } }, {});
  });

  it('uses the inputs of the last validation while it is current, without asking the server again', async () => {
    const api = fakeApi({ validate: reporting([]) });
    const { store, runs } = setup(api);
    store.getState().loadDocument(withInputs);
    store.getState().setRunInputs(['databaseId']);
    store.getState().setServerCheck('ok');
    await runs.request();
    expect(api.validate).not.toHaveBeenCalled();
    expect(store.getState().inputsPrompt).toEqual(['databaseId']);
  });

  it('runs at once when no inputs are used', async () => {
    const api = fakeApi();
    const { store, runs } = setup(api);
    await runs.request();
    expect(store.getState().inputsPrompt).toBeNull();
    expect(api.createRun).toHaveBeenCalledWith(expect.anything(), 'key-1', {}, {});
  });

  it('retries an unanswered request with the same key only for the same inputs', async () => {
    const createRun = vi.fn<Api['createRun']>().mockRejectedValue(new ApiError(0, 'network', 'Cannot reach the AutomateOS server'));
    const { runs } = setup(fakeApi({ createRun }));
    await runs.start({ a: '1' });
    await runs.start({ a: '1' });
    await runs.start({ a: '2' });
    expect(createRun.mock.calls.map((c) => c[1])).toEqual(['key-1', 'key-1', 'key-2']);
  });

  it('opens a run by its id (a child run), naming it and its parent from the server', async () => {
    const child = {
      id: 'child', status: 'succeeded' as const, workflowName: 'Greeter', workflowId: 'w2', workflowVersion: 1,
      trigger: 'subworkflow' as const, startedBy: null, parentRunId: 'r1', parentStepId: 'sub_1', waiting: null, logs: [],
      error: null, createdAt: '2026-01-01T09:00:00Z', updatedAt: 'x',
      steps: [{ id: 'set_1', nodeId: 'set_1', name: 'Greet', type: 'set', status: 'succeeded' } as Step],
    };
    const { store, runs, streams } = setup(fakeApi({ getRun: vi.fn(async () => child) }));
    runs.openRun('child');
    expect(streams.at(-1)?.runId).toBe('child');
    await vi.waitFor(() => expect(store.getState().run?.workflowName).toBe('Greeter'));
    const run = store.getState().run!;
    expect(run).toMatchObject({ runId: 'child', origin: 'history', parentRunId: 'r1', parentStepId: 'sub_1', createdAt: '2026-01-01T09:00:00Z' });
    expect(startedByRun(run)).toEqual({ runId: 'r1', stepId: 'sub_1', why: 'subworkflow' });
  });

  describe('answering a waiting approval', () => {
    const waiting = (resumeUrl: string | null): Step =>
      ({
        id: 'wait_1', nodeId: 'wait_1', name: 'Approve refund', type: 'wait', status: 'waiting', resumeUrl,
        wait: { mode: 'approval', message: 'Refund?', timeoutAt: '2026-01-02T09:00:00Z' },
      }) as Step;

    async function waitingRun(api: Api, resumeUrl: string | null = 'http://example.test/v1/resume/r1.wait_1.1.abc') {
      const { store, runs, streams } = setup(api);
      await runs.start();
      streams[0]!.options.onEvent({ runId: 'r1', seq: 1, ts: 't', type: 'step', step: waiting(resumeUrl) });
      return { store, runs };
    }

    it('posts the answer to the step’s resume URL and says the run goes on', async () => {
      const api = fakeApi();
      const { store, runs } = await waitingRun(api);
      await runs.answer('wait_1', true, 'fine');
      expect(api.resume).toHaveBeenCalledWith('http://example.test/v1/resume/r1.wait_1.1.abc', { approved: true, comment: 'fine' });
      await runs.answer('wait_1', false);
      expect(api.resume).toHaveBeenLastCalledWith('http://example.test/v1/resume/r1.wait_1.1.abc', { approved: false });
      expect(store.getState().toasts.map((t) => t.text)).toContain('Approved: Approve refund goes on from “approved”');
    });

    it.each([
      ['already_resumed', 'Approve refund was already answered: someone approved or rejected it first'],
      ['timed_out', 'Too late: Approve refund timed out, and the run went on from “timeout”'],
      ['not_waiting', 'Approve refund is not waiting for an answer any more'],
    ])('says a 409 %s in words', async (code, words) => {
      const resume = vi.fn<Api['resume']>().mockRejectedValue(new ApiError(409, code, 'Conflict'));
      const { store, runs } = await waitingRun(fakeApi({ resume }));
      await runs.answer('wait_1', true);
      expect(store.getState().toasts.at(-1)).toMatchObject({ kind: 'error', text: words });
    });

    it('does nothing for a step that has no resume URL (any more)', async () => {
      const api = fakeApi();
      const { runs } = await waitingRun(api, null);
      await runs.answer('wait_1', true);
      expect(api.resume).not.toHaveBeenCalled();
    });
  });
  it('Run sends the steps’ pins; Test step runs to the step with its ancestors pinned to the last outputs', async () => {
    const api = fakeApi();
    const { store, runs } = setup(api);
    store.getState().setPinned('http-1', { status: 200, body: { pinned: true } });
    await runs.start();
    expect(api.createRun).toHaveBeenLastCalledWith(expect.anything(), 'key-1', {}, { pinData: { 'http-1': { status: 200, body: { pinned: true } } } });

    store.getState().setPinned('http-1', undefined);
    const id = store.getState().addNode('http', { connectFrom: 'http-1' });
    store.getState().setConfig(id, { method: 'GET', url: 'https://b.example' });
    store.getState().updateRun('r1', (run) => ({
      ...run,
      steps: run.steps.map((s) => (s.nodeId === 'http-1' ? { ...s, status: 'succeeded', output: { status: 204 } } : s)),
    }));
    await runs.testStep(id);
    expect(api.createRun).toHaveBeenLastCalledWith(expect.anything(), 'key-2', {}, { pinData: { 'http-1': { status: 204 } }, runTo: id });
    expect(store.getState().toasts.at(-1)?.text).toMatch(/^Testing .* alone$/);
  });
});
