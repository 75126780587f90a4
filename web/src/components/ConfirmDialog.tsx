// A small modal asking to confirm a destructive action. Focus starts on Cancel and stays inside; Escape cancels.

import { useEffect, useRef, type ReactNode } from 'react';
import { useFocusTrap } from '../app/focus';
import { useClosesOnEscape } from '../app/services';

export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  onConfirm,
  onCancel,
  testId,
  alternative,
  children,
}: {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
  /** A third way out that loses nothing (e.g. "Save mine as a copy"). */
  alternative?: { label: string; onChoose: () => void };
  /** What the message refers to, listed under it (e.g. the workflows that use a credential). */
  children?: ReactNode;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  const dialog = useFocusTrap<HTMLDivElement>();
  useEffect(() => {
    cancelRef.current?.focus();
  }, []);
  useClosesOnEscape(true, onCancel);

  return (
    <div className="modal-backdrop" onPointerDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div ref={dialog} className="modal" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-message" data-testid={testId}>
        <h2 id="confirm-title" className="modal__title">
          {title}
        </h2>
        <p id="confirm-message" className="modal__message">
          {message}
        </p>
        {children}
        <div className="modal__actions">
          <button type="button" className="button button--ghost" ref={cancelRef} onClick={onCancel} data-testid="confirm-cancel">
            Cancel
          </button>
          {alternative && (
            <button type="button" className="button" onClick={alternative.onChoose} data-testid="confirm-alternative">
              {alternative.label}
            </button>
          )}
          <button type="button" className="button button--danger" onClick={onConfirm} data-testid="confirm-ok">
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
