// Start-up: who is signed in (else the sign-in page), then the server's node types (the builder draws everything
// from them), then this tab's draft, and the editor opens.

import { useEffect, useState } from 'react';
import { ApiError, type Api } from '../api/client';
import type { SessionInfo } from '../api/types';
import { SignIn } from '../components/SignIn';
import { createCatalogue } from '../graph/nodeTypes';
import { createBuilderStore, type BuilderStore } from '../store/store';
import { App } from './App';
import { loadSaved, type Draft } from './effects';

type BootState =
  | { kind: 'loading' }
  | { kind: 'signin' }
  | { kind: 'ready'; store: BuilderStore; session: SessionInfo; draft: Draft | null }
  | { kind: 'error'; message: string };

export function Boot({ api, storage }: { api: Api; storage: Storage }) {
  const [state, setState] = useState<BootState>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    Promise.all([api.getSession(), api.listNodeTypes()]).then(
      ([session, list]) => {
        if (!live) return;
        const catalogue = createCatalogue(list);
        const saved = loadSaved(storage);
        const store = createBuilderStore(saved ? { catalogue, initial: saved.doc } : { catalogue });
        setState({ kind: 'ready', store, session, draft: saved });
      },
      (error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 401) setState({ kind: 'signin' });
        else setState({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      },
    );
    return () => {
      live = false;
    };
  }, [api, storage, attempt]);

  if (state.kind === 'ready') return <App store={state.store} api={api} session={state.session} draft={state.draft} storage={storage} />;
  if (state.kind === 'signin') {
    const linkFailed = new URLSearchParams(window.location.search).get('signin') === 'failed';
    return <SignIn api={api} linkFailed={linkFailed} onSignedIn={() => setAttempt(attempt + 1)} />;
  }
  return (
    <div className="boot" role="status" data-testid="boot">
      <div className="boot__card">
        <span className="brand-name">AutomateOS</span>
        {state.kind === 'loading' ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <p className="boot__error">Couldn’t load the node types from the server: {state.message}</p>
            <button type="button" className="button button--primary" onClick={() => setAttempt(attempt + 1)} data-testid="boot-retry">
              Try again
            </button>
          </>
        )}
      </div>
    </div>
  );
}
