// The VM table's column chooser: a disclosure button with a list of checkboxes. The choice is kept in
// this browser profile's localStorage (lib/column-storage.ts).
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { VM_COLUMNS, VM_COLUMN_IDS, parseColumnChoice, type VmColumnId } from '../../lib/vm-columns';
import { storedColumnChoice, storeColumnChoice } from '../../lib/column-storage';

const readChoice = (): VmColumnId[] => parseColumnChoice(storedColumnChoice());

export function useColumnChoice(): [VmColumnId[], (c: VmColumnId[]) => void] {
  const [chosen, setChosen] = useState<VmColumnId[]>(readChoice);
  const set = useCallback((c: VmColumnId[]) => {
    const ordered = VM_COLUMN_IDS.filter((id) => c.includes(id));
    setChosen(ordered);
    storeColumnChoice(JSON.stringify(ordered));
  }, []);
  return [chosen, set];
}

export function ColumnChooser({ chosen, onChange }: { chosen: readonly VmColumnId[]; onChange: (c: VmColumnId[]) => void }) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    boxRef.current?.querySelector<HTMLInputElement>('input')?.focus();
    const onDown = (e: MouseEvent) => {
      if (!boxRef.current?.contains(e.target as Node) && e.target !== buttonRef.current) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      // Handled here: the screen's Escape (close the VM panel) must not also fire.
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  };

  return (
    <div className="column-chooser">
      <button
        ref={buttonRef}
        type="button"
        className="btn small"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
      >
        Columns
      </button>
      {open && (
        <div ref={boxRef} id={panelId} className="column-box" role="group" aria-label="Columns shown" onKeyDown={onKeyDown} data-testid="column-chooser">
          <p className="column-note">Name is always shown. Columns that do not fit the window are left out, least important first.</p>
          {VM_COLUMNS.map((c) => (
            <label key={c.id} className="check-line">
              <input
                type="checkbox"
                checked={chosen.includes(c.id)}
                onChange={(e) => onChange(e.target.checked ? [...chosen, c.id] : chosen.filter((x) => x !== c.id))}
              />
              {c.label}
            </label>
          ))}
          <button type="button" className="btn small ghost" onClick={close}>
            Done
          </button>
        </div>
      )}
    </div>
  );
}
