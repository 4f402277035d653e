import { cloneElement, useId, type ReactElement } from 'react';

type Control = ReactElement<{ id?: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }>;

/**
 * A labelled form control whose validation message sits outside the label (so it is not read as part
 * of the field's name) and is linked to the control with aria-describedby and aria-invalid.
 */
export function Field({ label, error, className, children }: { label: string; error?: string | undefined; className?: string; children: Control }) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? errorId : undefined })}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}
