// Bottom panel: the current run's steps (friendly names, status, duration) and its logs, live.

import { useEffect, useRef } from 'react';
import type { RunStatus } from '../api/types';
import { formatClock, formatDuration, formatRelative, plainLogMessage, shortRunId } from '../run/format';
import { cancelNote, isTerminal, orderedSteps, runDurationMs, waits, type RunView, type StepView } from '../run/runState';
import { useBuilder } from '../store/hooks';
import { Icon } from './icons';
import { ItemsCount } from './ItemsCount';
import { StartedByRun } from './RunLinks';
import { ApprovalButtons } from './WaitAnswer';
import { StatusBadge } from './WorkflowNode';

const RUN_STATUS_LABEL: Record<RunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function RunPanel() {
  const run = useBuilder((s) => s.run);
  const open = useBuilder((s) => s.runPanelOpen);
  const setOpen = useBuilder((s) => s.setRunPanelOpen);

  return (
    <section className={`run-panel${open ? ' is-open' : ''}`} aria-label="Run panel" data-testid="run-panel">
      <header className="run-panel__header">
        <button
          type="button"
          className="run-panel__toggle"
          onClick={() => setOpen(!open)}
          aria-expanded={open}
          aria-controls="run-panel-body"
          data-testid="run-panel-toggle"
        >
          <Icon name={open ? 'chevronDown' : 'chevronUp'} size={14} />
          <span className="run-panel__title">Run</span>
        </button>
        {run ? <RunSummaryLine run={run} /> : <span className="muted small">No run yet</span>}
      </header>
      {open && (
        <div className="run-panel__body" id="run-panel-body">
          {run ? (
            <>
              <StepList run={run} />
              <LogList run={run} />
            </>
          ) : (
            <p className="run-panel__empty">
              Press <strong>Run</strong> to execute this workflow. Each step’s status and the logs appear here as they happen.
            </p>
          )}
        </div>
      )}
    </section>
  );
}

function RunSummaryLine({ run }: { run: RunView }) {
  const connection =
    run.connection === 'reconnecting'
      ? 'Reconnecting…'
      : run.connection === 'lost'
        ? 'Live updates lost'
        : run.connection === 'connecting' && !isTerminal(run.status)
          ? 'Connecting…'
          : null;
  return (
    <div className="run-panel__summary">
      <span className={`status status--${run.status}`} data-testid="run-status" data-status={run.status} data-run-id={run.runId}>
        <span className="status__dot" aria-hidden="true" />
        {RUN_STATUS_LABEL[run.status]}
      </span>
      <span className="run-panel__name">{run.workflowName || 'Workflow'}</span>
      {run.createdAt && <span className="muted small">{formatRelative(run.createdAt)}</span>}
      {isTerminal(run.status) && runDurationMs(run) !== null && (
        <span className="muted small" title="From the moment the run started to the moment it ended" data-testid="run-duration">
          {formatDuration(runDurationMs(run))}
        </span>
      )}
      <span className="muted small mono" title={run.runId} data-testid="run-id">
        {shortRunId(run.runId)}
      </span>
      <StartedByRun run={run} />
      {run.origin === 'history' && !run.onCanvas && run.steps.length > 0 && (
        <span className="chip" title="This run’s steps are not the ones on the canvas">
          Different workflow
        </span>
      )}
      {connection && (
        <span className="chip chip--warn" role="status" data-testid="run-connection">
          {connection}
        </span>
      )}
      {waits(run) && run.waiting && (
        <span className="run-panel__waiting" role="status" title={run.waiting} data-testid="run-waiting">
          {run.waiting}
        </span>
      )}
      {run.error && (
        <span className="run-panel__error" title={run.error}>
          {run.error}
        </span>
      )}
      {run.status === 'cancelled' && cancelNote(run) !== 'Cancelled' && (
        <span className="muted small" data-testid="run-cancel-note">
          {cancelNote(run)}
        </span>
      )}
    </div>
  );
}

function StepList({ run }: { run: RunView }) {
  // Graph order, as the server lists the run's steps (the events arrive in the order things happen).
  const steps = orderedSteps(run);
  const selectOnly = useBuilder((s) => s.selectOnly);
  const setTab = useBuilder((s) => s.setInspectorTab);
  const show = (step: StepView) => {
    if (!run.onCanvas) return;
    selectOnly(step.nodeId);
    setTab('run');
  };
  return (
    <div className="run-panel__column run-panel__steps">
      <h3 className="section-title">Steps</h3>
      {steps.length === 0 ? (
        <p className="muted small">Waiting for the first step…</p>
      ) : (
        <ol className="step-list">
          {steps.map((step) => (
            <li key={step.id} className="step-row" data-testid={`step-row-${step.nodeId}`} data-status={step.status}>
              <StatusBadge status={step.status} label={step.errorHandled ? 'Failed, went on' : undefined} />
              <span className="step-row__main">
                {run.onCanvas ? (
                  <button type="button" className="step-row__name step-row__link" onClick={() => show(step)} title="See what happened">
                    {step.name || step.nodeId}
                  </button>
                ) : (
                  <span className="step-row__name">{step.name || step.nodeId}</span>
                )}
                {step.items && <ItemsCount items={step.items} testId={`step-items-${step.nodeId}`} />}
              </span>
              <span className="step-row__duration" data-testid="step-duration">
                {step.status === 'running' ? 'running…' : step.durationMs !== null ? formatDuration(step.durationMs) : ''}
              </span>
              <StepNote step={step} />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

function StepNote({ step }: { step: StepView }) {
  const tries = step.attempt > 1 ? `attempt ${step.attempt}` : null;
  const note = noteOf(step);
  const asks = step.status === 'waiting' && step.wait?.mode === 'approval' && step.resumeUrl !== null;
  if (!tries && !note && !asks) return null;
  return (
    <span className="step-row__notes">
      {tries && <span className="chip">{tries}</span>}
      {note}
      {asks && <ApprovalButtons step={step} testPrefix={`run-${step.nodeId}-`} />}
    </span>
  );
}

function noteOf(step: StepView) {
  if (step.status === 'waiting' && step.wait)
    return (
      <span className="step-row__note" title={step.wait.message || undefined}>
        {step.wait.mode === 'approval' ? 'waiting for approval' : 'waiting for a callback'}
        {step.wait.message ? `: ${step.wait.message}` : ''}
      </span>
    );
  if (step.status === 'waiting' && step.waitUntil)
    return <span className="step-row__note">waiting until {formatClock(step.waitUntil)}</span>;
  if (step.status === 'skipped' && step.skipReason) return <span className="step-row__note">{step.skipReason}</span>;
  if (step.error) return <span className="step-row__error">{step.error}</span>;
  if (step.handles && step.handles.length > 0) return <span className="step-row__note">→ {step.handles.join(', ')}</span>;
  return null;
}

function LogList({ run }: { run: RunView }) {
  const list = useRef<HTMLOListElement>(null);
  const names = new Map(run.steps.map((s) => [s.id, s.name]));
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [run.logs.length]);
  return (
    <div className="run-panel__column run-panel__logs">
      <h3 className="section-title">Logs</h3>
      {run.logs.length === 0 ? (
        <p className="muted small">No log lines yet.</p>
      ) : (
        <ol className="log-list" ref={list}>
          {run.logs.map((log) => (
            <li key={log.seq} className={`log-row log-row--${log.level.toLowerCase()}`} data-testid="log-row" data-level={log.level}>
              <time className="log-row__time" dateTime={log.ts}>
                {formatClock(log.ts)}
              </time>
              <span className="log-row__level">{log.level}</span>
              <span className="log-row__msg">
                {log.stepId && <span className="log-row__step">{names.get(log.stepId) ?? log.stepId}</span>}
                {withoutStepName(plainLogMessage(log.msg), log.stepId ? (names.get(log.stepId) ?? log.stepId) : null)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** The orchestrator's lines begin with the step's name (for the CLI and logs); here the row already shows it. */
function withoutStepName(message: string, name: string | null): string {
  return name && message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
}
