// Links between runs: a subworkflow step's child run, and the run (and step) that started a child run. Following
// one shows that run in the run panel, as opening it from History does.

import { useServices } from '../app/services';
import { shortRunId } from '../run/format';
import { startedByRun, type RunView } from '../run/runState';

export function RunLink({ runId, testId }: { runId: string; testId: string }) {
  const { runs } = useServices();
  return (
    <button
      type="button"
      className="link-button mono"
      onClick={() => runs.openRun(runId)}
      title={`Open run ${runId}`}
      aria-label={`Open run ${runId}`}
      data-testid={testId}
      data-run-id={runId}
    >
      {shortRunId(runId)}
    </button>
  );
}

/** A subworkflow step's details: the run it started. */
export function ChildRunLink({ runId }: { runId: string }) {
  return (
    <p className="step-details__note run-link" data-testid="step-child-run">
      Child run <RunLink runId={runId} testId="open-child-run" />
    </p>
  );
}

/** A child run's summary line: which run started it, from which step (a failure, for an error workflow's run). */
export function StartedByRun({ run }: { run: RunView }) {
  const parent = startedByRun(run);
  if (!parent) return null;
  const step = parent.stepId ? <> (step <span className="mono">{parent.stepId}</span>)</> : null;
  return (
    <span className="muted small run-link" data-testid="run-parent">
      {parent.why === 'error' ? 'Started by the failure of run ' : parent.why === 'loop' ? 'An item of run ' : 'Started by run '}
      <RunLink runId={parent.runId} testId="open-parent-run" />
      {step}
    </span>
  );
}
