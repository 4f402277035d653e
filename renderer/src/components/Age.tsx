import { formatAge, formatDateTimeLong, formatRecent, formatTime, formatTimeShort } from '../lib/format';
import { useClock } from '../lib/clock';

/** An age that ticks on its own from the shared clock ("2m 45s ago"), with the absolute time on hover. */
export function Age({ iso, none = 'no replica', testId }: { iso: string | null; none?: string; testId?: string }) {
  const now = useClock(1000);
  if (!iso) return <span className="muted" data-testid={testId}>{none}</span>;
  return (
    <time dateTime={iso} title={formatDateTimeLong(iso)} data-testid={testId}>
      {formatAge(iso, now)}
    </time>
  );
}

/**
 * An absolute time in the locale's unambiguous form; `short` drops the seconds, `recent` shows only the
 * time of day for today (the hover still has the full time).
 */
export function Time({ iso, short = false, recent = false, none = '—' }: { iso: string | null; short?: boolean; recent?: boolean; none?: string }) {
  if (!iso) return <span className="muted">{none}</span>;
  return (
    <time dateTime={iso} title={formatDateTimeLong(iso)}>
      {recent ? formatRecent(iso, Date.now()) : short ? formatTimeShort(iso) : formatTime(iso)}
    </time>
  );
}
