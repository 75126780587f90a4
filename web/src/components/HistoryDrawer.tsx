// Past runs, filtered by status and workflow: how each began, how long it took, why it failed. Opening one replays
// its events into the run panel (and onto the canvas if it matches); a run of a saved version can be re-run, or
// opened in the editor at the version that ran.

import { useCallback, useEffect, useRef, useState } from 'react';
import { RunsLive } from '../api/runsLive';
import { useFocusWhileOpen } from '../app/focus';
import { withSummary } from '../run/history';
import { roleBlocks, useClosesOnEscape, useServices, useWorkflows } from '../app/services';
import type { RunStatus, RunSummary } from '../api/types';
import { formatDuration, formatRelative, shortRunId } from '../run/format';
import { useBuilder } from '../store/hooks';
import { Icon } from './icons';

type ListState = { kind: 'loading' } | { kind: 'ready'; runs: RunSummary[]; next: string | null } | { kind: 'error'; message: string };

export const HISTORY_LIMIT = 30;
const STATUSES: readonly RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const TRIGGER_LABELS: Record<RunSummary['trigger'], string> = {
  manual: 'Manual', api: 'API', webhook: 'Webhook', schedule: 'Schedule', bus: 'Bus', subworkflow: 'Subworkflow',
  error: 'Error workflow', loop: 'Loop item', mcp: 'MCP client', agent: 'Agent tool call',
};

export function HistoryDrawer() {
  const { api, runs, workflows, session } = useServices();
  const open = useBuilder((s) => s.historyOpen);
  const setOpen = useBuilder((s) => s.setHistoryOpen);
  const pushToast = useBuilder((s) => s.pushToast);
  const currentRunId = useBuilder((s) => s.run?.runId);
  const currentStatus = useBuilder((s) => s.run?.status);
  const savedList = useWorkflows((s) => s.list);
  const [list, setList] = useState<ListState>({ kind: 'loading' });
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [workflowId, setWorkflowId] = useState('');

  const refresh = useCallback(() => {
    setList((l) => (l.kind === 'ready' ? l : { kind: 'loading' }));
    api.listRuns({ limit: HISTORY_LIMIT, status: status || undefined, workflowId: workflowId || undefined }).then(
      (page) => setList({ kind: 'ready', runs: page.runs, next: page.next }),
      (error: unknown) => setList({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  }, [api, status, workflowId]);

  const more = (before: string, shown: RunSummary[]) =>
    api.listRuns({ limit: HISTORY_LIMIT, status: status || undefined, workflowId: workflowId || undefined, before }).then(
      (page) => setList({ kind: 'ready', runs: [...shown, ...page.runs], next: page.next }),
      (error: unknown) => pushToast('error', `Couldn’t load more runs: ${error instanceof Error ? error.message : String(error)}`),
    );

  // Refresh when opened, when a filter changes, and whenever the current run changes status.
  useEffect(() => {
    if (open) refresh();
  }, [open, refresh, currentRunId, currentStatus]);

  // While open, every run's changes arrive live (scheduled and webhook runs too). The socket outlives filter
  // changes: the filters it applies are read when each change arrives.
  const filter = useRef({ status, workflowId });
  filter.current = { status, workflowId };
  const latestRefresh = useRef(refresh);
  latestRefresh.current = refresh;
  useEffect(() => {
    if (!open) return undefined;
    const live = new RunsLive({
      onSummary: (summary) =>
        setList((l) => (l.kind === 'ready' ? { ...l, runs: withSummary(l.runs, summary, filter.current, l.next === null) } : l)),
      // Changes made while no socket listened are not replayed: each connect reloads the list (the first one too,
      // for a change between the load on opening and the socket's start).
      onOpen: () => latestRefresh.current(),
    });
    live.start();
    return () => live.stop();
  }, [open]);
  const drawer = useFocusWhileOpen<HTMLElement>(open);
  useEffect(() => {
    if (open) void workflows.refreshList();
  }, [open, workflows]);

  useClosesOnEscape(open, () => setOpen(false));

  if (!open) return null;
  const cannotRun = roleBlocks(session, 'runner', 'Re-running');
  const rerun = async (run: RunSummary) => {
    try {
      const { runId } = await api.rerun(run.id);
      pushToast('info', `Re-run started: ${runId}`);
      refresh();
    } catch (error) {
      pushToast('error', `Couldn’t re-run: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const copy = (id: string) =>
    void navigator.clipboard?.writeText(id).then(
      () => pushToast('success', 'Run id copied'),
      () => pushToast('error', `Couldn’t copy; the run id is ${id}`),
    );

  return (
    <aside className="drawer" aria-label="Run history" data-testid="history-drawer" ref={drawer} tabIndex={-1}>
      <header className="drawer__header">
        <h2 className="panel-title">Run history</h2>
        <div className="drawer__actions">
          <button type="button" className="button button--ghost button--small" onClick={refresh} data-testid="history-refresh">
            Refresh
          </button>
          <button type="button" className="icon-button icon-button--quiet" aria-label="Close run history" onClick={() => setOpen(false)}>
            <Icon name="close" />
          </button>
        </div>
      </header>
      <div className="history-filters">
        <select className="input input--small" value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')}
          aria-label="Filter by status" data-testid="history-filter-status">
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.charAt(0).toUpperCase() + s.slice(1)}
            </option>
          ))}
        </select>
        <select className="input input--small" value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}
          aria-label="Filter by workflow" data-testid="history-filter-workflow">
          <option value="">Every workflow</option>
          {savedList.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      </div>
      {list.kind === 'loading' && <p className="drawer__empty">Loading runs…</p>}
      {list.kind === 'error' && <p className="drawer__empty drawer__empty--error">Couldn’t load runs: {list.message}</p>}
      {list.kind === 'ready' && list.runs.length === 0 && (
        <p className="drawer__empty">{status || workflowId ? 'No runs match these filters.' : 'No runs yet. Press Run to start one.'}</p>
      )}
      {list.kind === 'ready' && list.runs.length > 0 && (
        <ul className="history-list">
          {list.runs.map((run) => (
            <li key={run.id} className={`history-item${run.id === currentRunId ? ' is-current' : ''}`}>
              <button
                type="button"
                className="history-row"
                onClick={() => runs.open(run)}
                data-testid={`history-row-${run.id}`}
                data-status={run.status}
                data-trigger={run.trigger}
              >
                <span className={`status status--${run.status}`}>
                  <span className="status__dot" aria-hidden="true" />
                  {run.status.charAt(0).toUpperCase() + run.status.slice(1)}
                </span>
                <span className="history-row__name">
                  {run.workflowName || 'Workflow'}
                  {run.workflowVersion !== null && <span className="muted"> v{run.workflowVersion}</span>}
                </span>
                <time className="history-row__time" dateTime={run.createdAt} title={new Date(run.createdAt).toLocaleString()}>
                  {formatRelative(run.createdAt)}
                </time>
                <span className="history-row__meta">
                  {TRIGGER_LABELS[run.trigger]}
                  {run.startedBy ? ` by ${run.startedBy}` : ''}
                  {run.durationMs !== null ? ` · ${formatDuration(run.durationMs)}` : ''}
                </span>
                {run.error && (
                  <span className="history-row__error" title={run.error} data-testid="history-run-error">
                    {run.error}
                  </span>
                )}
              </button>
              <div className="history-item__actions">
                <button type="button" className="link-button mono" onClick={() => copy(run.id)} title={`Copy the full run id, ${run.id}`}
                  aria-label={`Copy run id ${run.id}`} data-testid={`history-copy-${run.id}`}>
                  {shortRunId(run.id)}
                </button>
                {run.workflowId && run.workflowVersion !== null && (
                  <>
                    <button type="button" className="link-button" disabled={cannotRun !== null} title={cannotRun ?? 'Same version, same inputs'}
                      onClick={() => void rerun(run)} data-testid={`history-rerun-${run.id}`}>
                      Re-run
                    </button>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => {
                        const id = run.workflowId!;
                        const version = run.workflowVersion!;
                        workflows.replaceCanvas(`Open version ${version} of ${run.workflowName}?`, () => workflows.open(id, version));
                      }}
                      data-testid={`history-open-${run.id}`}
                    >
                      Open in editor
                    </button>
                  </>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {list.kind === 'ready' && list.next && (
        <button type="button" className="button button--ghost button--small history-more" onClick={() => void more(list.next!, list.runs)}
          data-testid="history-more">
          Older runs
        </button>
      )}
    </aside>
  );
}
