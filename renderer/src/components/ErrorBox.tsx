import type { AppErrorShape } from '../../../shared/errors';
import { operatorError } from '../lib/error-advice';

/**
 * Every error in one shape, the one replication failures have: what happened, then what to do.
 * `not_available` gets the honest "not in this version" panel.
 */
export function ErrorBox({ error, what }: { error: AppErrorShape; what?: string }) {
  if (error.code === 'not_available') return <NotAvailable message={error.message} what={what} />;
  const shown = operatorError(error);
  return (
    <div className="error-box" role="alert" data-code={error.code}>
      <strong>{labelFor(error.code)}</strong> {shown.what}
      <div className="advice">{shown.todo}</div>
    </div>
  );
}

export function NotAvailable({ message, what }: { message: string; what?: string }) {
  return (
    <div className="not-available" role="status" data-testid="not-available" data-feature={what}>
      <div className="not-available-title">Not available in this version yet</div>
      <p>{message}</p>
    </div>
  );
}

function labelFor(code: AppErrorShape['code']): string {
  switch (code) {
    case 'validation':
      return 'Invalid input:';
    case 'conflict':
      return 'Conflict:';
    case 'not_found':
      return 'Not found:';
    case 'unreachable':
      return 'Unreachable:';
    case 'timeout':
      return 'Timed out:';
    case 'auth':
      return 'Authentication failed:';
    case 'host_key_untrusted':
      return 'Host key not trusted:';
    case 'host_key_mismatch':
      return 'Host key changed:';
    default:
      return 'Error:';
  }
}

/** Per-field messages from a validation error's details, when the core provides them. */
export function fieldErrors(error: AppErrorShape | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!error || error.code !== 'validation' || !error.details) return out;
  const issues = (error.details as { issues?: unknown }).issues;
  if (Array.isArray(issues)) {
    for (const i of issues as { path?: unknown; message?: unknown }[]) {
      const path = Array.isArray(i.path) ? i.path.join('.') : typeof i.path === 'string' ? i.path : '';
      if (path && typeof i.message === 'string' && !out[path]) out[path] = i.message;
    }
  }
  const fields = (error.details as { fields?: unknown }).fields;
  if (fields && typeof fields === 'object') {
    for (const [k, v] of Object.entries(fields as Record<string, unknown>)) if (typeof v === 'string' && !out[k]) out[k] = v;
  }
  return out;
}

/** A form's failure under its fields: a refused input reads as a field message, anything else in the one error shape. */
export function FormError({ error }: { error: AppErrorShape | null }) {
  if (!error) return null;
  return error.code === 'validation' ? <div className="field-error block">{error.message}</div> : <ErrorBox error={error} />;
}
