// Focus for drawers and dialogs: opening one moves focus into it (a keyboard or screen reader user is where the
// content is), and closing it gives focus back to what had it, usually the toolbar button that opened it.

import { useEffect, useRef, useState, type RefObject } from 'react';

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

const FOCUSABLE = 'a[href], button:not(:disabled), input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

/**
 * Keeps Tab and Shift+Tab inside a modal dialog (aria-modal says the rest of the page is out of reach; without this,
 * Tab walks on into the canvas behind it), and gives focus back to what had it, usually the button that opened it,
 * when the dialog goes. Where focus starts is the dialog's own choice.
 */
export function useFocusTrap<T extends HTMLElement>(): RefObject<T | null> {
  const ref = useRef<T | null>(null);
  // Read while rendering the dialog the first time: by the time effects run, a field's autoFocus has moved focus.
  const [before] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const dialog = ref.current;
      if (event.key !== 'Tab' || !dialog) return;
      const inside = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
      const first = inside[0];
      const last = inside.at(-1);
      if (!first || !last) return;
      const at = document.activeElement;
      if (event.shiftKey && (at === first || !dialog.contains(at))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (at === last || !dialog.contains(at))) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (lost && before?.isConnected) before.focus({ preventScroll: true });
    };
  }, [before]);
  return ref;
}
