import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A risky action asks in place, saying what will happen; the confirm button names the action again.
 * Escape or Cancel leaves everything as it was.
 */
export function ConfirmAction(props: { children: ReactNode; confirmLabel: string; onConfirm: () => void; onCancel: () => void; busy?: boolean }) {
  const { children, confirmLabel, onConfirm, onCancel, busy } = props;
  const cancel = useRef<HTMLButtonElement>(null);
  // The safe choice has the focus, so Enter on a stray keypress does not remove anything.
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div className="confirm" role="alertdialog" aria-label={confirmLabel} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <div className="confirm-text">{children}</div>
      <div className="confirm-actions">
        <button type="button" className="btn small danger" disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" className="btn small" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
