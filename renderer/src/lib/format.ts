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
