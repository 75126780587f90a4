// The sign-in link `up` prints, `/?code=…`: its code is taken out of the address bar as the page opens (so a reload,
// a bookmark or a shared address never carries it), and used once. `?signin=` is a note from the gateway about a
// link it refused (the old `?token=` links).

export interface SignInLink {
  code: string | null;
  notice: string | null;
}

let taken: SignInLink | null = null;

/** Reads and removes `code` and `signin` from the address, once per page load (later calls return the same). */
export function takeSignInLink(): SignInLink {
  if (taken) return taken;
  const url = new URL(window.location.href);
  const code = url.searchParams.get('code');
  const signin = url.searchParams.get('signin');
  taken = { code: code || null, notice: noticeFor(signin) };
  if (code !== null || signin !== null) {
    url.searchParams.delete('code');
    url.searchParams.delete('signin');
    window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  return taken;
}

function noticeFor(signin: string | null): string | null {
  if (signin === 'token-link')
    return 'Sign-in links with a token no longer work (a token in an address stays in the browser’s history). Open the link `make up` printed, or get a new one with `automateos sign-in-link`.';
  return null;
}

export const USED_LINK =
  'That sign-in link was already used or has expired (each works once, within minutes). Get a new one with `automateos sign-in-link`.';
