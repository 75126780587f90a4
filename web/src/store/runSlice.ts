// The builder store's run slice: the run being shown, and the item picked in each of its loop steps. Kept apart
// from the document slice (store.ts): nothing here is saved, undone or validated.

import type { StoreApi } from 'zustand/vanilla';
import { emptyPager, type ItemPager } from '../run/itemPager';
import type { RunView } from '../run/runState';
import type { BuilderState } from './store';

export interface RunSlice {
  run: RunView | null;
  /** A run request is in flight; the Run button stays disabled so a double-click starts one run. */
  runPosting: boolean;
  /** The item picker of each loop step and loop body step of the shown run, by step id. */
  itemPagers: Record<string, ItemPager>;
  setRun: (run: RunView | null) => void;
  setRunPosting: (posting: boolean) => void;
  updateRun: (runId: string, update: (run: RunView) => RunView) => void;
  /** Changes one step's item picker, if `runId` is still the run shown. */
  updateItemPager: (runId: string, stepId: string, update: (pager: ItemPager) => ItemPager) => void;
}

type Set = StoreApi<BuilderState>['setState'];
type Get = StoreApi<BuilderState>['getState'];

export function createRunSlice(set: Set, get: Get): RunSlice {
  return {
    run: null,
    runPosting: false,
    itemPagers: {},

    // A new run turns the inspector to what happened; picking Configure again sticks until the next run.
    setRun: (run) => {
      const state = get();
      const another = run?.runId !== state.run?.runId;
      set({
        run,
        runPanelOpen: run ? true : state.runPanelOpen,
        inspectorTab: run && another ? 'run' : state.inspectorTab,
        ...(another ? { itemPagers: {} } : {}),
      });
    },

    setRunPosting: (runPosting) => set({ runPosting }),

    updateRun: (runId, update) => set((s) => (s.run && s.run.runId === runId ? { run: update(s.run) } : {})),

    updateItemPager: (runId, stepId, update) =>
      set((s) =>
        s.run && s.run.runId === runId
          ? { itemPagers: { ...s.itemPagers, [stepId]: update(s.itemPagers[stepId] ?? emptyPager()) } }
          : {},
      ),
  };
}
