// The page a browser sees without a session: a token signs it in (the one-time link `make up` prints does the same).

import { useState, type FormEvent } from 'react';
import { ApiError, type Api } from '../api/client';
import type { SessionInfo } from '../api/types';

export function SignIn({ api, onSignedIn, notice }: { api: Api; onSignedIn: (session: SessionInfo) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  // Why the sign-in link did not sign in, until the user tries a token.
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await api.signIn({ token: token.trim() }));
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? 'That token is not valid.' : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="boot" data-testid="sign-in">
      <form className="boot__card sign-in" onSubmit={(e) => void submit(e)}>
        <span className="brand-name">AutomateOS</span>
        <h1 className="sign-in__title">Sign in</h1>
        <p className="muted">
          Open the sign-in link <code>make up</code> printed (<code>automateos sign-in-link</code> prints a new one), or paste a
          token: the admin token (<code>AUTOMATEOS_ADMIN_TOKEN</code> in <code>.env</code>) or one from <code>automateos tokens create</code>.
        </p>
        <label className="field">
          <span className="field__label">Token</span>
          <input
            className="input input--mono"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? 'sign-in-error' : undefined}
            data-testid="sign-in-token"
            autoFocus
          />
        </label>
        {error && (
          <p id="sign-in-error" className="boot__error" role="alert" data-testid="sign-in-error">
            {error}
          </p>
        )}
        <button type="submit" className="button button--primary" disabled={busy || token.trim() === ''} data-testid="sign-in-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
