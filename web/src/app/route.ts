// The URL names the open workflow (`#/workflows/{id}`), so a bookmark, a reload or a shared link opens it. The
// workflows store is the truth: the hash follows its binding, and a hash the user brings (a pasted link, an edited
// address) asks it to open that workflow, through the usual "lose unsaved changes?" question.

import type { WorkflowsService } from './workflows';

const PREFIX = '#/workflows/';

/** The workflow id a location hash names, or null. */
export function workflowIdOf(hash: string): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  const rest = hash.slice(PREFIX.length).split(/[/?#]/)[0] ?? '';
  if (rest === '') return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return null; // a malformed escape is no workflow id
  }
}

export function hashOf(workflowId: string | null): string {
  return workflowId === null ? '' : `${PREFIX}${encodeURIComponent(workflowId)}`;
}

/** Keeps `window.location.hash` and the open workflow in step; returns the function that stops it. */
export function startRouting(workflows: WorkflowsService, win: Window = window): () => void {
  const bound = () => workflows.store.getState().binding?.workflowId ?? null;

  // replaceState, not assigning `location.hash`: no hashchange event, and no history entry per open.
  const show = () => {
    const wanted = hashOf(bound());
    if (win.location.hash === wanted || (wanted === '' && win.location.hash === '')) return;
    const { pathname, search } = win.location;
    win.history.replaceState(win.history.state, '', `${pathname}${search}${wanted}`);
  };

  const follow = () => {
    const id = workflowIdOf(win.location.hash);
    if (id === null || id === bound()) {
      show();
      return;
    }
    workflows.replaceCanvas('Open the linked workflow?', async () => {
      await workflows.open(id);
      show(); // a workflow that could not be opened (deleted, no access): the URL goes back to what is open
    });
    // Asked and refused: the canvas stays, and so must the URL.
    if (workflows.store.getState().pendingReplace === null) return;
    const stop = workflows.store.subscribe((state) => {
      if (state.pendingReplace !== null) return;
      stop();
      show();
    });
  };

  const stopFollowingStore = workflows.store.subscribe((state, previous) => {
    if (state.binding?.workflowId !== previous.binding?.workflowId) show();
  });
  win.addEventListener('hashchange', follow);
  follow();
  return () => {
    stopFollowingStore();
    win.removeEventListener('hashchange', follow);
  };
}
