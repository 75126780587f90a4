// What Escape closes: the open drawers, menus and dialogs, the one opened last first. One keydown listener (in
// useShortcuts) asks; no layer listens for Escape itself, so one press closes one thing, and only a press with
// nothing open clears the canvas selection.

import { useEffect, useRef } from 'react';

export interface Layers {
  /** Puts a layer on top; the returned function takes it off (wherever it is by then). */
  push(close: () => void): () => void;
  /** Closes the topmost layer; false when none is open. */
  closeTop(): boolean;
  readonly size: number;
}

export function createLayers(): Layers {
  const stack: { close: () => void }[] = [];
  return {
    push(close) {
      const layer = { close };
      stack.push(layer);
      return () => {
        const at = stack.indexOf(layer);
        if (at !== -1) stack.splice(at, 1);
      };
    },
    closeTop() {
      const top = stack.at(-1);
      if (!top) return false;
      top.close();
      return true;
    },
    get size() {
      return stack.length;
    },
  };
}

/** While `open`, this component is a layer Escape closes with `close` (the latest one given). */
export function useEscapeLayer(layers: Layers, open: boolean, close: () => void): void {
  const latest = useRef(close);
  useEffect(() => {
    latest.current = close;
  });
  useEffect(() => (open ? layers.push(() => latest.current()) : undefined), [layers, open]);
}
