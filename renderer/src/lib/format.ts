// Display formatting in one place so every screen shows sizes, rates, times and ages the same way.
// Times and durations come from shared/format so the CLI prints the same words.
import { formatDateTime } from '../../../shared/format';

export { formatAge, formatDateTimeLong, formatDuration, formatMs, formatRecent } from '../../../shared/format';

// Built once at start-up: an Intl.NumberFormat is costly to make, and counts are formatted on every
// render of the VM table's footer, which re-renders while it scrolls.
const countFormat = new Intl.NumberFormat();

/** A count with the locale's digit grouping ("10,000"). */
export const formatCount = (n: number): string => countFormat.format(n);

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}

export const formatRate = (bps: number | null | undefined): string =>
  bps && bps > 0 ? `${formatBytes(bps)}/s` : '—';

/** An absolute time in the operator's locale with the month as a word ("2 Dec 2026, 01:23:45"). */
export const formatTime = (iso: string | null | undefined): string => formatDateTime(iso);

/** The same without seconds, for narrow table columns (the hover title has the full time). */
export const formatTimeShort = (iso: string | null | undefined): string => formatDateTime(iso, { seconds: false });

export const formatMemory = (mb: number): string => (mb >= 1024 ? `${+(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`);
