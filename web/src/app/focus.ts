// Focus for drawers: opening one moves focus into it (a keyboard or screen reader user is where the content is), and
// closing it gives focus back to what had it, usually the toolbar button that opened it.

import { useEffect, useRef, type RefObject } from 'react';

export function useFocusWhileOpen<T extends HTMLElement>(open: boolean): RefObject<T | null> {
  const ref = useRef<T | null>(null);
  useEffect(() => {
    if (!open) return undefined;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const drawer = ref.current;
    // A field inside that took focus itself (the credential form opened by "Add it") keeps it.
    if (drawer && !drawer.contains(document.activeElement)) drawer.focus({ preventScroll: true });
    return () => {
      // Only when focus went nowhere (it was inside the drawer, which is gone): a click elsewhere chose its own.
      const lost = document.activeElement === null || document.activeElement === document.body || (drawer?.contains(document.activeElement) ?? false);
      if (lost && before?.isConnected) before.focus({ preventScroll: true });
    };
  }, [open]);
  return ref;
}
