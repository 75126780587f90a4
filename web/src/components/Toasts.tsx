// Transient messages, announced politely to screen readers; errors stay a little longer.

import { useEffect } from 'react';
import { useBuilder } from '../store/hooks';
import type { Toast } from '../store/store';
import { Icon } from './icons';

const LIFETIME_MS = { info: 4000, success: 4000, error: 8000 } as const;

export function Toasts() {
  const toasts = useBuilder((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((toast) => (
        <ToastItem key={toast.id} toast={toast} />
      ))}
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  const dismiss = useBuilder((s) => s.dismissToast);
  useEffect(() => {
    const timer = setTimeout(() => dismiss(toast.id), LIFETIME_MS[toast.kind]);
    return () => clearTimeout(timer);
  }, [toast.id, toast.kind, dismiss]);
  return (
    <div className={`toast toast--${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'} data-testid="toast" data-kind={toast.kind}>
      <span className="toast__icon" aria-hidden="true">
        <Icon name={toast.kind === 'error' ? 'alert' : toast.kind === 'success' ? 'check' : 'play'} size={14} />
      </span>
      <span className="toast__text">{toast.text}</span>
      <button type="button" className="icon-button icon-button--quiet" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
        <Icon name="close" size={14} />
      </button>
    </div>
  );
}
