// Display formatting in one place so every screen shows sizes, rates and ages the same way.
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

export { formatDuration } from '../../../shared/format';
import { formatDuration } from '../../../shared/format';

export const formatMs = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : formatDuration(ms / 1000);

/** "3h 5m ago" from an ISO time; "never" when absent. */
export function formatAge(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = (now - t) / 1000;
  return s < 5 ? 'just now' : `${formatDuration(s)} ago`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export const formatMemory = (mb: number): string => (mb >= 1024 ? `${+(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`);

export const humanize = (status: string): string => status.replace(/_/g, ' ');
