// Undo/redo over whole-document snapshots (pure). Documents are small, so snapshots beat inverse operations.

import type { GraphDocument } from '../graph/document';

export interface History {
  past: GraphDocument[];
  future: GraphDocument[];
}

export const HISTORY_LIMIT = 100;

export const emptyHistory = (): History => ({ past: [], future: [] });

/** Remembers `before` as the state to return to; a new edit discards the redo branch. */
export function record(history: History, before: GraphDocument, limit = HISTORY_LIMIT): History {
  return { past: [...history.past, before].slice(-limit), future: [] };
}

export function undo(history: History, current: GraphDocument): { history: History; doc: GraphDocument } | null {
  const doc = history.past.at(-1);
  if (!doc) return null;
  return { history: { past: history.past.slice(0, -1), future: [current, ...history.future] }, doc };
}

export function redo(history: History, current: GraphDocument): { history: History; doc: GraphDocument } | null {
  const doc = history.future[0];
  if (!doc) return null;
  return { history: { past: [...history.past, current], future: history.future.slice(1) }, doc };
}
