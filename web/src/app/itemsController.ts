// The item picker's I/O: fetching the page that holds the item picked in a loop step (or a loop body step) of the
// shown run, a page at a time (run/itemPager.ts decides which), and again while the run is still finishing items.

import type { Api } from '../api/client';
import { clampIndex, pageNeeded, pageQuery, withPage } from '../run/itemPager';
import type { BuilderStore } from '../store/store';

export interface ItemsController {
  /** Picks item `index` of a step (clamped to its items) and fetches its page if it is not held. */
  pick(stepId: string, index: number): void;
  /** Fetches the picked item's page if it is missing, or stale while items finish; call as the step's progress moves.
   *  After a failure it waits for the next pick (so a missing route is not asked again on every item). */
  refresh(stepId: string): void;
  dispose(): void;
}

export interface ItemsControllerOptions {
  /** A page already held is fetched again at most this often while the run finishes items. */
  minGapMs?: number;
  now?: () => number;
}

export function createItemsController(store: BuilderStore, api: Api, options: ItemsControllerOptions = {}): ItemsController {
  const minGapMs = options.minGapMs ?? 1000;
  const now = options.now ?? Date.now;
  const lastFetch = new Map<string, number>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  const fetchNeeded = (stepId: string) => {
    const state = store.getState();
    const run = state.run;
    const progress = run?.steps.find((s) => s.id === stepId)?.items;
    if (!run || !progress) return;
    const pager = state.itemPagers[stepId];
    const done = progress.done;
    const page = pageNeeded(pager ?? { index: 0, pages: {}, loading: null, error: null }, done);
    if (page === null || pager?.loading === page || pager?.error) return;
    if (pager?.pages[page]) {
      // A refresh of a page held: at most one per minGapMs, the last one caught up by a timer.
      const wait = (lastFetch.get(stepId) ?? -Infinity) + minGapMs - now();
      if (wait > 0) {
        if (!timers.has(stepId))
          timers.set(
            stepId,
            setTimeout(() => {
              timers.delete(stepId);
              fetchNeeded(stepId);
            }, wait),
          );
        return;
      }
    }
    const runId = run.runId;
    const { offset, limit } = pageQuery(page);
    lastFetch.set(stepId, now());
    state.updateItemPager(runId, stepId, (p) => ({ ...p, loading: page, error: null }));
    api.listStepItems(runId, stepId, offset, limit).then(
      (answer) => {
        if (store.getState().run?.runId !== runId) return; // another run is shown now
        store.getState().updateItemPager(runId, stepId, (p) => withPage(p, page, { items: answer.items, atDone: done }));
        fetchNeeded(stepId); // the pick may have moved on while this page came
      },
      (error: unknown) =>
        store.getState().updateItemPager(runId, stepId, (p) => ({
          ...p,
          loading: p.loading === page ? null : p.loading,
          error: `Couldn’t load the items: ${error instanceof Error ? error.message : String(error)}`,
        })),
    );
  };

  return {
    pick(stepId, index) {
      const state = store.getState();
      const run = state.run;
      const progress = run?.steps.find((s) => s.id === stepId)?.items;
      if (!run || !progress) return;
      state.updateItemPager(run.runId, stepId, (p) => ({ ...p, index: clampIndex(index, progress.total), error: null }));
      fetchNeeded(stepId);
    },
    refresh: (stepId) => fetchNeeded(stepId),
    dispose() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
