import type { CallbackForwardState } from './domain';

/** One wording for the callback forward in the header, Settings and `mkc`. */
export function callbackForwardText(f: CallbackForwardState | null | undefined): string | null {
  if (!f) return null;
  const where = `callback forward 127.0.0.1:${f.port}`;
  if (f.state === 'bound') return `${where} bound`;
  if (f.state === 'refused') return `${where} refused${f.reason ? `: ${f.reason}` : ''}; no copy can start`;
  return `${where} requested`;
}
