// Side effects that follow the document: this tab's autosave to localStorage, and debounced server validation.

import { ApiError, type Api } from '../api/client';
import type { GraphDocument } from '../graph/document';
import { parseWorkflow } from '../graph/convert';
import { withoutLiteralSecrets } from '../graph/secrets';
import { issuesFromServer } from '../graph/validate';
import { documentOf, type BuilderStore } from '../store/store';
import type { Binding, WorkflowsStore } from './workflows';

/** Before per-tab drafts every tab shared this one slot; a draft found there is taken over once. */
export const LEGACY_STORAGE_KEY = 'automateos.builder.document.v1';
const DRAFT_PREFIX = 'automateos.builder.draft.';
const TAB_KEY = 'automateos.builder.tab';
const MAX_DRAFTS = 20;
const SAVE_DELAY_MS = 250;
const VALIDATE_DELAY_MS = 500;

/** One tab's autosave: its document and which saved workflow (and version) it is a change of. */
export interface Draft {
  doc: GraphDocument;
  binding: Binding | null;
  savedSnapshot: string | null;
  savedAt: number;
}

/** This tab's id: kept by sessionStorage across reloads of the tab, new in a new tab. */
export function tabId(session: Storage | undefined = globalThis.sessionStorage): string {
  let id = session?.getItem(TAB_KEY);
  if (!id) {
    id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    session?.setItem(TAB_KEY, id);
  }
  return id;
}

function readDraft(storage: Storage, key: string): Draft | null {
  const text = storage.getItem(key);
  if (!text) return null;
  const value = JSON.parse(text) as Partial<Draft> & { nodes?: unknown };
  const parsed = parseWorkflow(value.nodes ? value : value.doc);
  if (!parsed.ok) return null;
  return { doc: parsed.doc, binding: value.binding ?? null, savedSnapshot: value.savedSnapshot ?? null, savedAt: value.savedAt ?? 0 };
}

function draftKeys(storage: Storage): string[] {
  return Array.from({ length: storage.length }, (_, i) => storage.key(i)).filter((k): k is string => !!k?.startsWith(DRAFT_PREFIX));
}

/**
 * This tab's draft. A reloaded tab gets its own back; a new tab starts from a copy of the latest draft of any tab
 * (so work is never lost), which it then saves under its own key: a second tab never overwrites the first.
 * Not validated: half-built graphs restore too.
 */
export function loadSaved(storage: Storage | undefined, session?: Storage): Draft | null {
  try {
    if (!storage) return null;
    const own = readDraft(storage, DRAFT_PREFIX + tabId(session));
    if (own) return own;
    const latest = draftKeys(storage)
      .map((key) => readDraft(storage, key))
      .filter((d): d is Draft => d !== null)
      .sort((a, b) => b.savedAt - a.savedAt)[0];
    return latest ?? readDraft(storage, LEGACY_STORAGE_KEY);
  } catch {
    return null; // Unreadable storage or an old/corrupt save: start fresh rather than fail to open.
  }
}

function dropOldDrafts(storage: Storage, keep: string): void {
  const drafts = draftKeys(storage)
    .filter((key) => key !== keep)
    .map((key) => ({ key, savedAt: (JSON.parse(storage.getItem(key) ?? '{}') as { savedAt?: number }).savedAt ?? 0 }))
    .sort((a, b) => b.savedAt - a.savedAt);
  for (const { key } of drafts.slice(MAX_DRAFTS - 1)) storage.removeItem(key);
  storage.removeItem(LEGACY_STORAGE_KEY);
}

function onDocumentChange(store: BuilderStore, delayMs: number, run: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.docVersion === previous.docVersion) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run();
    }, delayMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    unsubscribe();
  };
}

export function startAutosave(store: BuilderStore, workflows: WorkflowsStore, storage: Storage): () => void {
  const key = DRAFT_PREFIX + tabId();
  const save = () => {
    try {
      const state = store.getState();
      const { binding, savedSnapshot } = workflows.getState();
      const doc = withoutLiteralSecrets(documentOf(state), state.catalogue).doc;
      const draft: Draft = { doc, binding, savedSnapshot, savedAt: Date.now() };
      storage.setItem(key, JSON.stringify(draft));
      dropOldDrafts(storage, key);
    } catch (error) {
      console.warn('Autosave failed', error); // Quota or private mode: the canvas still works.
    }
  };
  const stop = onDocumentChange(store, SAVE_DELAY_MS, save);
  const stopBinding = workflows.subscribe((s, previous) => {
    if (s.binding !== previous.binding || s.savedSnapshot !== previous.savedSnapshot) save();
  });
  window.addEventListener('pagehide', save);
  return () => {
    stop();
    stopBinding();
    window.removeEventListener('pagehide', save);
  };
}

export function startServerValidation(store: BuilderStore, api: Api): () => void {
  let controller: AbortController | null = null;
  const validate = async () => {
    controller?.abort();
    controller = new AbortController();
    const state = store.getState();
    const version = state.docVersion;
    const doc = documentOf(state);
    try {
      const { inputs } = await api.validate(doc, controller.signal);
      if (store.getState().docVersion !== version) return;
      store.getState().setRunInputs(inputs);
      store.getState().setServerIssues([]);
      store.getState().setServerCheck('ok');
    } catch (error) {
      if (store.getState().docVersion !== version) return;
      if (error instanceof ApiError && error.status === 422) {
        const issues = issuesFromServer(doc, state.catalogue, error.fields);
        store.getState().setServerIssues(issues.length > 0 ? issues : [{ message: error.message, source: 'server' }]);
        store.getState().setServerCheck('invalid');
      } else if (!(error instanceof DOMException && error.name === 'AbortError')) {
        // Server unreachable or not serving the API (e.g. a static preview): keep client checks only.
        store.getState().setServerIssues([]);
        store.getState().setServerCheck('unavailable');
      }
    }
  };
  // Until the server has seen this version of the document, nothing may claim it is ready to run.
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.docVersion !== previous.docVersion) state.setServerCheck('pending');
  });
  const stop = onDocumentChange(store, VALIDATE_DELAY_MS, () => void validate());
  void validate();
  return () => {
    unsubscribe();
    stop();
    controller?.abort();
  };
}
