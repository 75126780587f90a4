// Side effects that follow the document: autosave to localStorage and debounced server validation.

import { ApiError, type Api } from '../api/client';
import type { GraphDocument } from '../graph/document';
import { parseWorkflow } from '../graph/convert';
import { withoutLiteralSecrets } from '../graph/secrets';
import { issuesFromServer } from '../graph/validate';
import { documentOf, type BuilderStore } from '../store/store';

export const STORAGE_KEY = 'automateos.builder.document.v1';
const SAVE_DELAY_MS = 250;
const VALIDATE_DELAY_MS = 500;

/** The autosaved document, if there is a readable one. Not validated: half-built graphs restore too. */
export function loadSaved(storage: Storage | undefined): GraphDocument | null {
  try {
    const text = storage?.getItem(STORAGE_KEY);
    if (!text) return null;
    const parsed = parseWorkflow(JSON.parse(text));
    return parsed.ok ? parsed.doc : null;
  } catch {
    return null; // Unreadable storage or an old/corrupt save: start fresh rather than fail to open.
  }
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

export function startAutosave(store: BuilderStore, storage: Storage): () => void {
  const save = () => {
    try {
      const state = store.getState();
      storage.setItem(STORAGE_KEY, JSON.stringify(withoutLiteralSecrets(documentOf(state), state.catalogue).doc));
    } catch (error) {
      console.warn('Autosave failed', error); // Quota or private mode: the canvas still works.
    }
  };
  const stop = onDocumentChange(store, SAVE_DELAY_MS, save);
  window.addEventListener('pagehide', save);
  return () => {
    stop();
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
      await api.validate(doc, controller.signal);
      if (store.getState().docVersion !== version) return;
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
