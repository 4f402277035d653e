// Durations and times read the same in the console and in `mkc`: one formatter for both.
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds as a duration; a negative value (clocks of two machines disagreeing) reads as 0, never "−389 ms". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const v = Math.max(0, Math.round(ms));
  return v < 1000 ? `${v} ms` : formatDuration(v / 1000);
}

// Building an Intl.DateTimeFormat costs far more than formatting with one, and a table row mounting
// while it scrolls into view formats several times: each kind of formatter is built once.
const formatters = new Map<string, Intl.DateTimeFormat>();
function dateTimeFormat(key: string, make: () => { locale: string | undefined; options: Intl.DateTimeFormatOptions }): Intl.DateTimeFormat {
  let f = formatters.get(key);
  if (!f) {
    const { locale, options } = make();
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f;
}

const parse = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

/**
 * An absolute time an operator cannot misread: the month is a word (no 03/04 vs 04/03) and the order,
 * names and 12/24-hour clock follow the locale. `locale` and `timeZone` exist for tests.
 */
export function formatDateTime(
  iso: string | null | undefined,
  opts: { locale?: string; timeZone?: string; seconds?: boolean } = {},
): string {
  const t = parse(iso);
  if (t === null) return '—';
  return dateTimeFormat(`short|${opts.locale ?? ''}|${opts.timeZone ?? ''}|${opts.seconds === false ? 0 : 1}`, () => ({
    locale: opts.locale,
    options: {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...(opts.seconds === false ? {} : { second: '2-digit' }),
      timeZone: opts.timeZone,
    },
  })).format(t);
}

/**
 * For a narrow column of recent times: the time of day when it falls on the same day as `nowMs` (in the
 * operator's zone), otherwise the date and time without seconds. The hover form keeps the full time.
 */
export function formatRecent(iso: string | null | undefined, nowMs: number, opts: { locale?: string; timeZone?: string } = {}): string {
  const t = parse(iso);
  if (t === null) return '—';
  const day = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: opts.timeZone });
  if (day.format(t) !== day.format(nowMs)) return formatDateTime(iso, { ...opts, seconds: false });
  return new Intl.DateTimeFormat(opts.locale, { hour: '2-digit', minute: '2-digit', timeZone: opts.timeZone }).format(t);
}

/** The hover text for a time: the full date and time with its zone, so a screenshot or a call is unambiguous. */
export function formatDateTimeLong(iso: string | null | undefined, opts: { locale?: string; timeZone?: string } = {}): string {
  const t = parse(iso);
  if (t === null) return '';
  return dateTimeFormat(`long|${opts.locale ?? ''}|${opts.timeZone ?? ''}`, () => ({
    locale: opts.locale,
    options: {
      weekday: 'short',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
      timeZone: opts.timeZone,
    },
  })).format(t);
}

/** "3m 12s ago" from an ISO time and the current time; "never" when absent; a time ahead of us reads "just now". */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'never';
  const t = parse(iso);
  if (t === null) return '—';
  const s = (nowMs - t) / 1000;
  return s < 5 ? 'just now' : `${formatDuration(s)} ago`;
}
