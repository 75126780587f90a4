// "See what happened": one step of the last run, attempt by attempt. For each try, the request an HTTP step
// sent (method, URL, headers as the server masked them, body) and the response (status, headers, body), the
// error and duration, and the wait before the next try; for other steps, their output.

import { useContext, useEffect, useState } from 'react';
import type { StepOutput } from '../api/types';
import { ServicesContext } from '../app/services';
import { LOOP_TYPE } from '../graph/loops';
import { attemptsOf, type Attempt } from '../run/attempts';
import { formatClock, formatDuration } from '../run/format';
import type { StepView } from '../run/runState';
import { AgentConversation } from './AgentConversation';
import { ItemPicker } from './ItemPicker';
import { OutputView, RequestView } from './OutputView';
import { ChildRunLink } from './RunLinks';
import { WaitAnswer } from './WaitAnswer';
import { StatusBadge } from './WorkflowNode';

export function StepDetails({ step, runId }: { step: StepView; runId?: string }) {
  // A loop's whole output holds every item's result (10,000 of them, perhaps): kept apart, it is fetched only when
  // asked for; the item picker pages through the same results.
  const [wholeLoop, setWholeLoop] = useState<string | null>(null);
  const deferred = step.type === LOOP_TYPE && step.outputRef !== null && wholeLoop !== step.outputRef;
  const kept = useKeptOutput(runId, step, !deferred);
  // A loop body step's own state sums up its items (the picker shows each), and a waiting wait step has no result
  // yet: neither has an attempt worth a card.
  const bodyStep = step.items !== null && step.type !== LOOP_TYPE;
  const quiet = bodyStep || (step.status === 'waiting' && step.wait !== null);
  const attempts = quiet ? [] : attemptsOf(kept.value ? { ...step, output: kept.value.output, request: kept.value.request ?? null } : step);
  return (
    <div className="step-details" data-testid="step-details" data-status={step.status}>
      <StepSummary step={step} />
      {step.childRunId && <ChildRunLink runId={step.childRunId} />}
      {step.calls.length > 0 && <AgentConversation calls={step.calls} />}
      {step.status === 'waiting' && step.wait && <WaitAnswer step={step} />}
      {bodyStep && step.error && (
        <p className="attempt__error" role="alert" data-testid="step-items-error">
          {step.error}
        </p>
      )}
      {step.items && runId && <ItemPicker runId={runId} step={step} items={step.items} />}
      {deferred && (
        <p className="muted small" data-testid="loop-output-deferred">
          The loop’s output, every item’s result, is large.{' '}
          <button type="button" className="link-button" onClick={() => setWholeLoop(step.outputRef)} data-testid="loop-output-load">
            Load it all
          </button>
        </p>
      )}
      {step.outputRef && !deferred && !kept.value && (
        <p className="muted small" data-testid="step-output-loading" role={kept.error ? 'alert' : undefined}>
          {kept.error ?? 'Loading the output…'}
        </p>
      )}
      {attempts.map((attempt, index) => (
        <div key={attempt.attempt} className="step-details__attempt-wrap">
          <AttemptCard attempt={attempt} total={attempts.length} />
          {attempt.retryInMs !== null && (index < attempts.length - 1 || step.status === 'waiting') && (
            <p className="step-details__wait" data-testid="attempt-wait">
              Waited {formatDuration(attempt.retryInMs)}, then tried again
            </p>
          )}
        </div>
      ))}
      {attempts.length === 0 && step.status === 'queued' && <p className="muted">Not started yet.</p>}
    </div>
  );
}

/** A large output and request are kept apart from the run (the step has only their `outputRef`): fetched here,
 * when someone opens the step, instead of travelling with every run update. */
function useKeptOutput(runId: string | undefined, step: StepView, wanted = true): { value: StepOutput | null; error: string | null } {
  const api = useContext(ServicesContext)?.api;
  const [state, setState] = useState<{ ref: string; value: StepOutput | null; error: string | null } | null>(null);
  const ref = wanted ? step.outputRef : null;
  useEffect(() => {
    if (!api || !runId || !ref) return;
    let live = true;
    api.getStepOutput(runId, step.id).then(
      (value) => live && setState({ ref, value, error: null }),
      (error: unknown) =>
        live && setState({ ref, value: null, error: `Could not load the output: ${error instanceof Error ? error.message : String(error)}` }),
    );
    return () => {
      live = false;
    };
  }, [api, runId, ref, step.id]);
  return state && state.ref === ref ? state : { value: null, error: null };
}

function StepSummary({ step }: { step: StepView }) {
  return (
    <div className="step-details__summary">
      <div className="step-details__line">
        <StatusBadge status={step.status} testId="step-details-status" />
        {step.durationMs !== null && <span className="muted small">{formatDuration(step.durationMs)}</span>}
        {step.attempts.length > 1 && <span className="chip">{step.attempts.length} attempts</span>}
      </div>
      {step.status === 'waiting' && step.waitUntil && !step.wait && <WaitingUntil until={step.waitUntil} />}
      {step.status === 'skipped' && (
        <p className="step-details__note" data-testid="step-skip-reason">
          Skipped{step.skipReason ? `: ${step.skipReason}` : ''}.
        </p>
      )}
      {step.pinned && (
        <p className="step-details__note" data-testid="step-pinned">
          Not run: its pinned output was used.
        </p>
      )}
      {step.errorHandled && (
        <p className="step-details__note step-details__note--warn" data-testid="step-error-handled">
          It failed, and the run went on (on error: continue). Later steps can read its error.
        </p>
      )}
      {step.handles !== null && (
        <p className="step-details__note" data-testid="step-handles">
          Took {step.handles.length === 0 ? 'no output' : step.handles.map((h) => `“${h}”`).join(', ')}
        </p>
      )}
    </div>
  );
}

function WaitingUntil({ until }: { until: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Date.parse(until) - now;
  return (
    <p className="step-details__note" data-testid="step-wait-until">
      Waiting until <time dateTime={until}>{formatClock(until)}</time>
      {Number.isFinite(left) && left > 0 ? ` (${formatDuration(left)} left)` : ''}
    </p>
  );
}

function AttemptCard({ attempt, total }: { attempt: Attempt; total: number }) {
  return (
    <article className="attempt" data-testid={`attempt-${attempt.attempt}`}>
      <header className="attempt__header">
        <span className="attempt__title">{total > 1 ? `Attempt ${attempt.attempt}` : 'Result'}</span>
        <StatusBadge status={attempt.status} />
        {attempt.durationMs !== null && <span className="muted small">{formatDuration(attempt.durationMs)}</span>}
        {attempt.worker && (
          <span className="muted small mono attempt__worker" title="The engine worker that ran it">
            {attempt.worker}
          </span>
        )}
      </header>
      {attempt.error && (
        <p className="attempt__error" role="alert" data-testid="attempt-error">
          {attempt.error}
        </p>
      )}
      {attempt.request && <RequestView request={attempt.request} last={attempt.last} />}
      <OutputView output={attempt.output} last={attempt.last} />
    </article>
  );
}

