// Start-up: the builder draws everything from the server's node types, so it asks for them first, then
// restores the autosaved document and opens the editor.

import { useEffect, useState } from 'react';
import type { Api } from '../api/client';
import { createCatalogue } from '../graph/nodeTypes';
import { createBuilderStore, type BuilderStore } from '../store/store';
import { App } from './App';
import { loadSaved } from './effects';

type BootState = { kind: 'loading' } | { kind: 'ready'; store: BuilderStore } | { kind: 'error'; message: string };

export function Boot({ api, storage }: { api: Api; storage: Storage }) {
  const [state, setState] = useState<BootState>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    api.listNodeTypes().then(
      (list) => {
        if (!live) return;
        const catalogue = createCatalogue(list);
        const saved = loadSaved(storage);
        setState({ kind: 'ready', store: createBuilderStore(saved ? { catalogue, initial: saved } : { catalogue }) });
      },
      (error: unknown) => live && setState({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [api, storage, attempt]);

  if (state.kind === 'ready') return <App store={state.store} api={api} />;
  return (
    <div className="boot" role="status" data-testid="boot">
      <div className="boot__card">
        <span className="brand-name">AutomateOS</span>
        {state.kind === 'loading' ? (
          <p className="muted">Loading the node types…</p>
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
