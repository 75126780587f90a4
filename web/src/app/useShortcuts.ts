// Keyboard shortcuts for the whole builder. Text fields keep their own undo and Backspace.

import { useEffect } from 'react';
import type { BuilderStore } from '../store/store';
import type { Layers } from './layers';
import type { RunController } from './runController';
import type { WorkflowsService } from './workflows';

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function useShortcuts(store: BuilderStore, runs: RunController, workflows: WorkflowsService, layers: Layers): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === 'enter') {
        event.preventDefault();
        // In a dialog (the run inputs form handles its own Enter), Ctrl+Enter does not start a second run.
        if (!document.querySelector('[aria-modal="true"]')) void runs.request();
        return;
      }
      if (mod && key === 's') {
        event.preventDefault(); // Saves from a text field too, as every editor does; never the browser's "Save page".
        if (!document.querySelector('[aria-modal="true"]')) void workflows.save();
        return;
      }
      if (event.key === 'Escape') {
        // One press closes one thing: the topmost dialog, menu or drawer; only with nothing open, the selection.
        // A field that used the press itself (cancelling a rename) has said so with preventDefault.
        if (event.defaultPrevented) return;
        if (layers.closeTop()) event.preventDefault();
        else if (!isEditable(event.target)) store.getState().selectOnly(null);
        return;
      }
      if (isEditable(event.target) || document.querySelector('[aria-modal="true"]')) return;
      const state = store.getState();
      if (mod && key === 'z') {
        event.preventDefault();
        if (event.shiftKey) state.redo();
        else state.undo();
      } else if (mod && key === 'y') {
        event.preventDefault();
        state.redo();
      } else if (!mod && (event.key === 'Delete' || event.key === 'Backspace')) {
        event.preventDefault();
        state.deleteSelection();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [store, runs, workflows, layers]);
}
