// Bottom layer: used by the app log and the logbook alike, so it depends on nothing in main/.

/** Secrets must never reach the log: known secret-looking keys are redacted from details. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|apikey|api_key|private_?key|signature/i;
export function redact(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details) return details;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEY.test(k)) out[k] = '[redacted]';
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = redact(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}
