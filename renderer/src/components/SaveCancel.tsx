/** The actions of an edit form: save (busy while the core works) and cancel. */
export function SaveCancel({ busy, onCancel }: { busy: boolean; onCancel: () => void }) {
  return (
    <div className="form-actions">
      <button type="submit" className="btn primary small" disabled={busy}>
        {busy ? 'Saving…' : 'Save changes'}
      </button>
      <button type="button" className="btn small" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
