import type { VmContextSummary } from '../../../shared/domain';
import { statusText, vmDisplayStatus, vmStatusText } from '../../../shared/status-text';

/** A coloured pill for any stored status; the word comes from the shared vocabulary, the colour from CSS. */
export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {statusText(status)}
    </span>
  );
}

/** A VM's status as the table and panel show it: a managed VM without a replica is "Not synced", not "Discovered". */
export function VmStatusBadge({ context }: { context: Pick<VmContextSummary, 'status' | 'lastSuccessfulSyncAt' | 'enabled'> }) {
  const display = vmDisplayStatus(context);
  return (
    <span className={`badge badge-${display}`} data-status={context.status} data-display={display}>
      {vmStatusText(context)}
    </span>
  );
}
