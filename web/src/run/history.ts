// The History list as run summaries arrive live (pure): which change belongs in the list under its filters, and where.

import type { RunStatus, RunSummary } from '../api/types';

export interface HistoryFilter {
  status?: RunStatus | '';
  workflowId?: string;
}

export function matchesFilter(run: RunSummary, filter: HistoryFilter): boolean {
  if (filter.status && run.status !== filter.status) return false;
  if (filter.workflowId && run.workflowId !== filter.workflowId) return false;
  return true;
}

/**
 * The list after one summary changed: a listed run is updated in place (or leaves, when it no longer matches a status
 * filter); a new run that matches goes in by its creation time, newest first, as the server lists them. `complete`:
 * the list holds every matching run (no older page), so one older than all of them still belongs at its end.
 */
export function withSummary(list: readonly RunSummary[], run: RunSummary, filter: HistoryFilter, complete: boolean): RunSummary[] {
  const at = list.findIndex((r) => r.id === run.id);
  if (at !== -1) {
    // Summaries can arrive out of order after a reconnect: an older one never replaces a newer one.
    if (list[at]!.updatedAt > run.updatedAt) return [...list];
    if (!matchesFilter(run, filter)) return list.filter((r) => r.id !== run.id);
    return list.map((r, i) => (i === at ? run : r));
  }
  if (!matchesFilter(run, filter)) return [...list];
  const before = list.findIndex((r) => r.createdAt < run.createdAt || (r.createdAt === run.createdAt && r.id < run.id));
  // Older than everything listed: it belongs on a page not loaded yet, unless the list is the whole of history.
  if (before === -1) return complete ? [...list, run] : [...list];
  return [...list.slice(0, before), run, ...list.slice(before)];
}
