// Starting, following, cancelling and replaying runs: the I/O around the pure run state in run/runState.ts.

import { RunEventStream, type EventStreamOptions, type StreamState } from '../api/events';
import { ApiError, type Api, type PartialRun } from '../api/client';
import type { RunEvent, RunSummary } from '../api/types';
import { topologicalOrder } from '../graph/algorithms';
import type { GraphDocument } from '../graph/document';
import { isTrigger, type Catalogue } from '../graph/nodeTypes';
import { promptedInputs } from '../graph/inputFields';
import { pinsOf, planTest } from '../graph/pins';
import { describeIssue, issuesFromServer } from '../graph/validate';
import { isRunInput } from '../graph/variables';
import { formatDuration } from '../run/format';
import { applyEvent, cancelNote, createRunView, isTerminal, runDurationMs, waits, withSnapshot, type RunView, type StepView } from '../run/runState';
import { documentOf, issuesOf, type BuilderStore } from '../store/store';

export interface RunController {
  /** What Run does: asks for the run inputs the workflow uses (see `inputsPrompt`), or starts at once. */
  request(): Promise<void>;
  /** Starts a run of the canvas graph, with its pins. Calls while a start is in flight share it (one run per click). */
  start(inputs?: Record<string, unknown>): Promise<void>;
  /** Test step: runs `nodeId` alone (`runTo`), its ancestors pinned to their pins or their last outputs. */
  testStep(nodeId: string): Promise<void>;
  cancel(): Promise<void>;
  /** Replays a past (or still running) run from its first event. */
  open(summary: RunSummary): void;
  /** Opens a run known only by its id (a subworkflow's child run, the run that started one), as `open` does. */
  openRun(runId: string): void;
  /** Answers the shown run's waiting approval step at its resume URL; says in a toast how it went. */
  answer(stepId: string, approved: boolean, comment?: string): Promise<void>;
  /** Forgets the shown run (the canvas now holds another workflow): the panel empties, its toasts go. */
  clear(): void;
  dispose(): void;
}

export interface RunControllerOptions {
  uuid?: () => string;
  /** Whether this user may send pins (an editor); a runner's Run runs the workflow as it is. Default: yes. */
  mayPin?: () => boolean;
  /** The saved version the canvas is, unchanged; then Run runs it as saved, so the run records workflow and version. */
  savedVersion?: () => { workflowId: string; version: number } | null;
  createStream?: (runId: string, options: EventStreamOptions) => { start(): void; stop(): void };
  /** How often the server is asked again why a run waits (it may be queued behind others, or a retry moved). */
  askWhyEveryMs?: number;
}

export function createRunController(store: BuilderStore, api: Api, options: RunControllerOptions = {}): RunController {
  const uuid = options.uuid ?? (() => crypto.randomUUID());
  const createStream = options.createStream ?? ((runId, opts) => new RunEventStream(runId, opts));
  let stream: { start(): void; stop(): void } | null = null;
  let askWhyTimer: ReturnType<typeof setTimeout> | null = null;
  const askWhyEveryMs = options.askWhyEveryMs ?? 3000;
  let inFlight: Promise<void> | null = null;
  // Kept when a request got no answer: the server may have started the run, so a retry of the same body must
  // reuse the key (a different body under the same key would be refused with 409).
  let unanswered: { key: string; body: string } | null = null;

  // Every message about a run is about the last one: a new run (or another workflow) takes them all away, so a
  // stale failure never sits above a fresh success.
  let runToasts: number[] = [];
  const toast = (kind: 'info' | 'success' | 'error', text: string) => {
    runToasts.push(store.getState().pushToast(kind, text));
  };
  const dismissRunToasts = () => {
    const { dismissToast } = store.getState();
    for (const id of runToasts) dismissToast(id);
    runToasts = [];
  };
  const currentRun = (runId: string): RunView | null => {
    const run = store.getState().run;
    return run && run.runId === runId ? run : null;
  };

  const stopAskingWhy = () => {
    if (askWhyTimer) clearTimeout(askWhyTimer);
    askWhyTimer = null;
  };

  /** GET /v1/runs/{id}: the steps in graph order, the ones no event reported yet, and why the run waits. While
   * it waits, asks again every `askWhyEveryMs`: the events say what changed, not why nothing does. */
  const snapshot = (runId: string) => {
    stopAskingWhy();
    Promise.resolve()
      .then(() => api.getRun(runId))
      .then(
        (found) => {
          if (found) store.getState().updateRun(runId, (run) => withSnapshot(run, found));
        },
        () => undefined, // A nicety: the events carry everything else.
      )
      .then(() => {
        const run = currentRun(runId);
        if (run && waits(run) && !askWhyTimer) askWhyTimer = setTimeout(() => snapshot(runId), askWhyEveryMs);
      });
  };

  const follow = (runId: string) => {
    stream?.stop();
    stopAskingWhy();
    const onEvent = (event: RunEvent) => {
      const before = currentRun(runId);
      if (!before) return;
      let after = applyEvent(before, event);
      if (after === before) return;
      if (after.origin === 'history') after = { ...after, onCanvas: matchesCanvas(after, documentOf(store.getState())) };
      if (waits(before) && !waits(after)) after = { ...after, waiting: null };
      store.getState().updateRun(runId, () => after);
      if (!isTerminal(before.status) && isTerminal(after.status)) announceEnd(after);
      if (!waits(before) && waits(after)) snapshot(runId); // a step began to wait: ask why now
      else if (!waits(after)) stopAskingWhy();
    };
    const onState = (state: StreamState, detail?: string) => {
      store.getState().updateRun(runId, (run) => ({ ...run, connection: state }));
      if (state === 'lost' && detail) toast('error', detail);
    };
    stream = createStream(runId, {
      lastSeq: () => currentRun(runId)?.lastSeq ?? 0,
      isDone: () => {
        const run = currentRun(runId);
        return !run || isTerminal(run.status);
      },
      onEvent,
      onState,
    });
    stream.start();
    snapshot(runId);
  };

  const announceEnd = (run: RunView) => {
    if (run.origin !== 'canvas') return;
    const name = run.workflowName || 'Run';
    // Wall clock, start to end: the steps' own durations leave out retry waits and delays.
    const took = runDurationMs(run);
    const duration = took !== null ? ` in ${formatDuration(took)}` : '';
    if (run.status === 'succeeded') toast('success', `${name} succeeded${duration}`);
    else if (run.status === 'failed') toast('error', `${name} failed${run.error ? `: ${run.error}` : ''}`);
    else if (run.status === 'cancelled') {
      // "Cancelled by admin" reads on as "Order Router was cancelled by admin".
      toast('info', `${name} was ${(cancelNote(run) ?? 'Cancelled').replace(/^Cancelled/, 'cancelled')}`);
    }
  };

  /** The canvas document, or null (after saying why) when it cannot run. */
  const runnable = () => {
    const state = store.getState();
    const doc = documentOf(state);
    const [problem] = issuesOf(state);
    if (problem) {
      toast('error', `Can’t run yet — ${describeIssue(problem, doc, state.catalogue)}`);
      return null;
    }
    return doc;
  };

  const post = async (inputs: Record<string, unknown>, partial: PartialRun, testing?: string) => {
    const doc = runnable();
    if (!doc) return;
    const body = JSON.stringify({ doc, inputs, partial });
    const key = unanswered && unanswered.body === body ? unanswered.key : uuid();
    unanswered = { key, body };
    store.getState().setRunPosting(true);
    try {
      const saved = options.savedVersion?.() ?? null;
      const { runId } = saved
        ? await api.runSaved(saved.workflowId, saved.version, key, inputs, partial)
        : await api.createRun(doc, key, inputs, partial);
      unanswered = null;
      stream?.stop();
      dismissRunToasts();
      store.getState().setRun(
        createRunView(runId, 'canvas', {
          workflowName: doc.meta.name,
          steps: placeholderSteps(doc, store.getState().catalogue),
          onCanvas: true,
          createdAt: new Date().toISOString(),
        }),
      );
      const tested = testing ? doc.nodes.find((n) => n.id === testing) : undefined;
      toast('info', tested ? `Testing ${tested.data.label || tested.id} alone` : `Run started: ${doc.meta.name}`);
      follow(runId);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.isNetwork) unanswered = null;
      if (error instanceof ApiError && error.status === 422) {
        const { catalogue } = store.getState();
        const issues = issuesFromServer(doc, catalogue, error.fields);
        store.getState().setServerIssues(issues);
        toast('error', `Can’t run yet — ${issues[0] ? describeIssue(issues[0], doc, catalogue) : error.message}`);
      } else {
        toast('error', `Could not start the run: ${error instanceof Error ? error.message : String(error)}`);
      }
    } finally {
      store.getState().setRunPosting(false);
    }
  };

  const start = (inputs: Record<string, unknown> = {}) => {
    const pins = options.mayPin?.() === false ? {} : pinsOf(documentOf(store.getState()), store.getState().catalogue);
    inFlight ??= post(inputs, Object.keys(pins).length > 0 ? { pinData: pins } : {}).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const testStep = (nodeId: string) => {
    inFlight ??= (async () => {
      const state = store.getState();
      const plan = planTest(documentOf(state), state.catalogue, nodeId, state.run);
      const shown = state.run;
      try {
        // A large output is kept apart from its run: its pin is read back whole before the test starts.
        for (const id of plan.fetch) {
          const step = shown?.steps.find((s) => s.nodeId === id);
          if (shown && step) plan.pinData[id] = (await api.getStepOutput(shown.runId, step.id)).output;
        }
      } catch (error) {
        toast('error', `Could not read the last run’s outputs: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      await post(plan.inputs, { pinData: plan.pinData, runTo: plan.runTo }, nodeId);
    })().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  return {
    start,
    testStep,

    request() {
      const state = store.getState();
      if (inFlight || state.inputsPrompt) return inFlight ?? Promise.resolve();
      const doc = runnable();
      if (!doc) return Promise.resolve();
      // A webhook or schedule trigger's sample payload stands in for the request or tick a real run gets.
      const sample = doc.nodes.find((n) => isTrigger(state.catalogue.get(n.type)) && n.data.samplePayload !== undefined);
      if (sample) return start({ payload: sample.data.samplePayload });
      // Which inputs the templates read is the server's rule: the last validation's answer while it is current.
      const asked = state.serverCheck === 'ok' ? Promise.resolve(state.runInputs) : api.validate(doc).then((ok) => ok.inputs);
      inFlight = asked
        .then(
          (paths) => promptedInputs(doc.meta.inputSchema, paths.filter(isRunInput)),
          () => promptedInputs(doc.meta.inputSchema, []), // the run's own request reports what is wrong
        )
        .then((paths) => {
          inFlight = null;
          if (paths.length > 0) store.getState().setInputsPrompt(paths);
          else return start();
        });
      return inFlight;
    },

    async cancel() {
      const run = store.getState().run;
      if (!run || isTerminal(run.status) || run.cancelRequested) return;
      const runId = run.runId;
      store.getState().updateRun(runId, (r) => ({ ...r, cancelRequested: true }));
      try {
        await api.cancelRun(runId);
      } catch (error) {
        store.getState().updateRun(runId, (r) => ({ ...r, cancelRequested: false }));
        toast('error', `Could not cancel: ${error instanceof Error ? error.message : String(error)}`);
      }
    },

    open(summary) {
      stream?.stop();
      dismissRunToasts();
      store.getState().setRun(
        createRunView(summary.id, 'history', { workflowName: summary.workflowName, createdAt: summary.createdAt }),
      );
      follow(summary.id);
    },

    openRun(runId) {
      stream?.stop();
      dismissRunToasts();
      // Its name and time come with the snapshot `follow` asks for.
      store.getState().setRun(createRunView(runId, 'history'));
      follow(runId);
    },

    async answer(stepId, approved, comment) {
      const run = store.getState().run;
      const step = run?.steps.find((s) => s.id === stepId);
      if (!run || !step?.resumeUrl) return;
      const name = step.name || step.nodeId;
      try {
        await api.resume(step.resumeUrl, comment ? { approved, comment } : { approved });
        toast('success', `${approved ? 'Approved' : 'Rejected'}: ${name} goes on from “${approved ? 'approved' : 'rejected'}”`);
      } catch (error) {
        toast('error', answerRefused(name, error));
      }
    },

    clear() {
      stream?.stop();
      stream = null;
      stopAskingWhy();
      dismissRunToasts();
      if (store.getState().run) store.getState().setRun(null);
    },

    dispose() {
      stream?.stop();
      stream = null;
      stopAskingWhy();
    },
  };
}

/** Why a resume URL refused an answer, in words: its 409 codes say the step no longer waits, and why. */
export function answerRefused(name: string, error: unknown): string {
  if (error instanceof ApiError && error.status === 409) {
    if (error.code === 'already_resumed') return `${name} was already answered: someone approved or rejected it first`;
    if (error.code === 'timed_out') return `Too late: ${name} timed out, and the run went on from “timeout”`;
    if (error.code === 'not_waiting') return `${name} is not waiting for an answer any more`;
  }
  if (error instanceof ApiError && error.status === 404) return `${name} can no longer be answered: its resume link is not known`;
  return `Couldn’t answer ${name}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The canvas's steps in run order, shown as queued until the server reports them. */
export function placeholderSteps(doc: GraphDocument, catalogue: Catalogue): StepView[] {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  return topologicalOrder(doc)
    .map((id) => byId.get(id))
    .filter((n) => n !== undefined && !isTrigger(catalogue.get(n.type)))
    .map((n) => ({
      id: n!.id,
      nodeId: n!.id,
      name: n!.data.label,
      type: n!.type,
      status: 'queued' as const,
      durationMs: null,
      startedAt: null,
      finishedAt: null,
      attempt: 0,
      error: null,
      output: null,
      request: null,
      outputRef: null,
      attempts: [],
      handles: null,
      waitUntil: null,
      skipReason: null,
      pinned: false,
      calls: [],
      errorHandled: false,
      items: null,
      childRunId: null,
      resumeUrl: null,
      wait: null,
      placeholder: true,
    }));
}

/** A past run belongs to the canvas graph when every step it reports is a canvas node of the same name. */
export function matchesCanvas(run: RunView, doc: GraphDocument): boolean {
  if (run.steps.length === 0) return false;
  const labels = new Map(doc.nodes.map((n) => [n.id, n.data.label]));
  return run.steps.every((s) => labels.has(s.nodeId) && (!s.name || labels.get(s.nodeId) === s.name));
}
