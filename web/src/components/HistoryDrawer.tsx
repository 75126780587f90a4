// Drawer of recent runs; opening one replays its events into the run panel (and onto the canvas if it matches).

import { useCallback, useEffect, useState } from 'react';
import { useServices } from '../app/services';
import type { RunSummary } from '../api/types';
import { formatRelative } from '../run/format';
import { useBuilder } from '../store/hooks';
import { Icon } from './icons';

type ListState = { kind: 'loading' } | { kind: 'ready'; runs: RunSummary[] } | { kind: 'error'; message: string };

export const HISTORY_LIMIT = 30;

export function HistoryDrawer() {
  const { api, runs } = useServices();
  const open = useBuilder((s) => s.historyOpen);
  const setOpen = useBuilder((s) => s.setHistoryOpen);
  const currentRunId = useBuilder((s) => s.run?.runId);
  const currentStatus = useBuilder((s) => s.run?.status);
  const [list, setList] = useState<ListState>({ kind: 'loading' });

  const refresh = useCallback(() => {
    setList((l) => (l.kind === 'ready' ? l : { kind: 'loading' }));
    api.listRuns(HISTORY_LIMIT).then(
      (items) => setList({ kind: 'ready', runs: items }),
      (error: unknown) => setList({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  }, [api]);

  // Refresh when opened and whenever the current run changes status.
  useEffect(() => {
    if (open) refresh();
  }, [open, refresh, currentRunId, currentStatus]);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open, setOpen]);

  if (!open) return null;
  return (
    <aside className="drawer" aria-label="Run history" data-testid="history-drawer">
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
      {list.kind === 'loading' && <p className="drawer__empty">Loading runs…</p>}
      {list.kind === 'error' && <p className="drawer__empty drawer__empty--error">Couldn’t load runs: {list.message}</p>}
      {list.kind === 'ready' && list.runs.length === 0 && <p className="drawer__empty">No runs yet. Press Run to start one.</p>}
      {list.kind === 'ready' && list.runs.length > 0 && (
        <ul className="history-list">
          {list.runs.map((run) => (
            <li key={run.id}>
              <button
                type="button"
                className={`history-row${run.id === currentRunId ? ' is-current' : ''}`}
                onClick={() => runs.open(run)}
                data-testid={`history-row-${run.id}`}
                data-status={run.status}
              >
                <span className={`status status--${run.status}`}>
                  <span className="status__dot" aria-hidden="true" />
                  {run.status.charAt(0).toUpperCase() + run.status.slice(1)}
                </span>
                <span className="history-row__name">{run.workflowName || 'Workflow'}</span>
                <time className="history-row__time" dateTime={run.createdAt} title={new Date(run.createdAt).toLocaleString()}>
                  {formatRelative(run.createdAt)}
                </time>
              </button>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
