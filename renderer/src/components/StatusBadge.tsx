import { humanize } from '../lib/format';

/** A coloured pill for any status string; the colour comes from CSS per status value. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {humanize(status)}
    </span>
  );
}
