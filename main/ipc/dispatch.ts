import { invokeRequestSchemas, isInvokeChannel, type InvokeChannel } from '../../shared/contract';
import { AppError, type Result } from '../../shared/errors';
import type { HandlerMap } from './handler-types';

export interface DispatchLogger {
  error(message: string, details?: Record<string, unknown>): void;
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * The single entry for every transport (Electron IPC, dev bridge): checks the channel against the
 * allowlist, validates the arguments with the contract's schema, runs the handler and always answers
 * with the result shape. Unknown failures are reported as `internal` without leaking internals.
 */
/**
 * The schema check every request passes, on its own: dispatch runs it before a handler, and the CLI
 * runs it before it opens a data directory, so bad input is refused with one message and touches nothing.
 */
export function validateRequest(channel: InvokeChannel, request: unknown): Result<unknown> {
  const parsed = invokeRequestSchemas[channel].safeParse(request === undefined ? {} : request);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    error: {
      code: 'validation',
      message: `Invalid request for ${channel}: ${describeIssues(parsed.error.issues)}`,
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    },
  };
}

export async function dispatch(
  handlers: HandlerMap,
  channel: unknown,
  args: readonly unknown[],
  logger?: DispatchLogger,
): Promise<Result<unknown>> {
  if (!isInvokeChannel(channel)) {
    return { ok: false, error: { code: 'validation', message: `Unknown channel ${JSON.stringify(String(channel)).slice(0, 80)}` } };
  }
  if (args.length > 1) {
    return { ok: false, error: { code: 'validation', message: `${channel} takes one request object, got ${args.length} arguments` } };
  }
  const parsed = validateRequest(channel, args.length === 0 ? undefined : args[0]);
  if (!parsed.ok) return parsed;
  try {
    const handler = handlers[channel] as (req: unknown) => unknown;
    const value = await handler(parsed.value);
    return { ok: true, value };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, error: e.toShape() };
    logger?.error(`handler ${channel} failed`, { error: e instanceof Error ? e.stack ?? e.message : String(e) });
    return { ok: false, error: { code: 'internal', message: `${channel} failed unexpectedly; see the application log` } };
  }
}
