// Start-up: a sign-in link's code is exchanged for a session (asking first if this browser is signed in as someone
// else), then who is signed in (else the sign-in page), then the server's node types (the builder draws everything
// from them), then this tab's draft, and the editor opens.

import { useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from '../api/client';
import type { SessionInfo, SignInConflict } from '../api/types';
import { SignIn } from '../components/SignIn';
import { createCatalogue } from '../graph/nodeTypes';
import { createBuilderStore, type BuilderStore } from '../store/store';
import { App } from './App';
import { loadSaved, type Draft } from './effects';
import { takeSignInLink, USED_LINK } from './signInLink';

type BootState =
  | { kind: 'loading' }
  | { kind: 'signin' }
  | { kind: 'replace'; conflict: SignInConflict }
  | { kind: 'ready'; store: BuilderStore; session: SessionInfo; draft: Draft | null }
  | { kind: 'error'; message: string };

export function Boot({ api, storage }: { api: Api; storage: Storage }) {
  const [state, setState] = useState<BootState>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [notice, setNotice] = useState<string | null>(() => takeSignInLink().notice);
  // Held here, never in the address or storage: it is used (or dropped) before the editor opens.
  const code = useRef<string | null>(takeSignInLink().code);

  useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    const start = async () => {
      if (code.current !== null) {
        try {
          await api.signIn({ code: code.current });
          code.current = null;
        } catch (error) {
          if (!live) return;
          const conflict = error instanceof ApiError && error.status === 409 ? (error.detail.signIn as SignInConflict | undefined) : undefined;
          if (conflict) {
            setState({ kind: 'replace', conflict });
            return;
          }
          code.current = null;
          if (error instanceof ApiError && error.status === 401) setNotice(USED_LINK);
          else throw error;
        }
      }
      const [session, list] = await Promise.all([api.getSession(), api.listNodeTypes()]);
      if (!live) return;
      const catalogue = createCatalogue(list);
      const saved = loadSaved(storage);
      const store = createBuilderStore(saved ? { catalogue, initial: saved.doc } : { catalogue });
      setState({ kind: 'ready', store, session, draft: saved });
    };
    start().catch((error: unknown) => {
      if (!live) return;
      if (error instanceof ApiError && error.status === 401) setState({ kind: 'signin' });
      else setState({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    });
    return () => {
      live = false;
    };
  }, [api, storage, attempt]);

  const answer = async (replace: boolean) => {
    const pending = code.current;
    code.current = null;
    if (replace && pending !== null) {
      try {
        await api.signIn({ code: pending, replace: true });
      } catch (error) {
        setNotice(error instanceof ApiError && error.status === 401 ? USED_LINK : String(error));
      }
    }
    setAttempt((n) => n + 1);
  };

  if (state.kind === 'ready') return <App store={state.store} api={api} session={state.session} draft={state.draft} storage={storage} />;
  if (state.kind === 'signin') return <SignIn api={api} notice={notice} onSignedIn={() => setAttempt(attempt + 1)} />;
  if (state.kind === 'replace') {
    const { current, requested } = state.conflict;
    return (
      <div className="boot" data-testid="sign-in-replace">
        <div className="boot__card sign-in" role="alertdialog" aria-modal="true" aria-labelledby="sign-in-replace-title" aria-describedby="sign-in-replace-why">
          <span className="brand-name">AutomateOS</span>
          <h1 className="sign-in__title" id="sign-in-replace-title" data-testid="sign-in-replace-question">
            Sign in as {requested.name} ({requested.role}) instead of {current.name} ({current.role})?
          </h1>
          <p className="muted" id="sign-in-replace-why">
            This browser is signed in as {current.name}. Switch only if you opened this sign-in link yourself: another page can send you to one.
          </p>
          <div className="modal__actions">
            <button type="button" className="button button--ghost" onClick={() => void answer(false)} data-testid="sign-in-replace-no" autoFocus>
              Stay signed in as {current.name}
            </button>
            <button type="button" className="button button--primary" onClick={() => void answer(true)} data-testid="sign-in-replace-yes">
              Sign in as {requested.name}
            </button>
          </div>
        </div>
      </div>
    );
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
