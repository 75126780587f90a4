import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { hashOf, startRouting, workflowIdOf } from './route';
import type { Binding, WorkflowsService, WorkflowsState } from './workflows';

describe('the workflow a URL names', () => {
  it('reads #/workflows/{id} and nothing else', () => {
    expect(workflowIdOf('#/workflows/wf_01')).toBe('wf_01');
    expect(workflowIdOf('#/workflows/a%20b')).toBe('a b');
    expect(workflowIdOf('#/workflows/')).toBeNull();
    expect(workflowIdOf('')).toBeNull();
    expect(workflowIdOf('#/runs/r1')).toBeNull();
    expect(workflowIdOf('#/workflows/%E0%A4%A')).toBeNull();
    expect(workflowIdOf(hashOf('a/b c'))).toBe('a/b c');
    expect(hashOf(null)).toBe('');
  });
});

/** A window with just what routing touches: the location's hash, replaceState and hashchange. */
function fakeWindow(hash: string) {
  const listeners: (() => void)[] = [];
  const win = {
    location: { hash, pathname: '/', search: '' },
    history: {
      state: null,
      replaceState: vi.fn((_state: unknown, _title: string, url: string) => {
        win.location.hash = url.includes('#') ? url.slice(url.indexOf('#')) : '';
      }),
    },
    addEventListener: (_type: string, listener: () => void) => listeners.push(listener),
    removeEventListener: vi.fn(),
  };
  const navigate = (to: string) => {
    win.location.hash = to;
    for (const listener of listeners) listener();
  };
  return { win: win as unknown as Window, navigate, replaceState: win.history.replaceState };
}

const binding = (workflowId: string): Binding => ({ workflowId, version: 1, active: false, activeVersion: null, triggers: [] });

function fakeWorkflows(bound: string | null, dirty = false) {
  const store = createStore<WorkflowsState>(() => ({
    binding: bound ? binding(bound) : null,
    savedSnapshot: null,
    list: [],
    listStatus: 'idle',
    versions: null,
    saving: false,
    conflict: null,
    pendingReplace: null,
    drawerOpen: false,
  }));
  const open = vi.fn(async (id: string) => {
    if (id === 'missing') return; // the service says why in a toast; the binding stays
    store.setState({ binding: binding(id) });
  });
  const service = {
    store,
    open,
    replaceCanvas: (title: string, run: () => void | Promise<void>) => {
      if (dirty) store.setState({ pendingReplace: { title, run } });
      else void run();
    },
  } as unknown as WorkflowsService;
  return { service, store, open };
}

describe('routing', () => {
  it('opens the workflow a fresh page is linked to, and names the one the tab had otherwise', async () => {
    const linked = fakeWindow('#/workflows/wf2');
    const one = fakeWorkflows(null);
    startRouting(one.service, linked.win);
    expect(one.open).toHaveBeenCalledWith('wf2');

    const reloaded = fakeWindow('');
    const two = fakeWorkflows('wf1');
    startRouting(two.service, reloaded.win);
    expect(two.open).not.toHaveBeenCalled();
    expect(reloaded.win.location.hash).toBe('#/workflows/wf1');
  });

  it('follows the open workflow: saved, opened, new', () => {
    const { win, replaceState } = fakeWindow('');
    const { service, store } = fakeWorkflows(null);
    startRouting(service, win);
    expect(replaceState).not.toHaveBeenCalled();
    store.setState({ binding: binding('wf1') });
    expect(win.location.hash).toBe('#/workflows/wf1');
    store.setState({ binding: { ...binding('wf1'), version: 2 } });
    expect(replaceState).toHaveBeenCalledTimes(1); // same workflow, same address
    store.setState({ binding: null });
    expect(win.location.hash).toBe('');
  });

  it('puts the address back when the linked workflow cannot be opened or the user keeps their changes', async () => {
    const { win, navigate } = fakeWindow('');
    const { service, store } = fakeWorkflows('wf1', true);
    startRouting(service, win);
    navigate('#/workflows/wf2');
    expect(store.getState().pendingReplace?.title).toBe('Open the linked workflow?');
    store.setState({ pendingReplace: null }); // Cancel
    expect(win.location.hash).toBe('#/workflows/wf1');

    const clean = fakeWorkflows('wf1');
    const other = fakeWindow('#/workflows/wf1');
    startRouting(clean.service, other.win);
    other.navigate('#/workflows/missing');
    await vi.waitFor(() => expect(other.win.location.hash).toBe('#/workflows/wf1'));
  });
});
