// Pure: which ended jobs and failovers become a desktop notification, and what it says.
import type { NotificationLevel } from '../../shared/contract';
import type { FailoverEnded } from './failover-activity';
import type { JobEnded } from './job-activity';

export interface DesktopNotice {
  title: string;
  body: string;
  /** What clicking it opens. */
  open: { vmContextId: string; jobId: string };
}

export function notificationFor(ended: JobEnded, level: NotificationLevel, vmName: string | null): DesktopNotice | null {
  if (level === 'off') return null;
  // An operator's own cancel is not news; a failure always is.
  if (ended.status === 'cancelled') return null;
  if (level === 'failures' && ended.status !== 'failed') return null;
  const vm = vmName ?? ended.vmContextId;
  const open = { vmContextId: ended.vmContextId, jobId: ended.jobId };
  if (ended.status === 'failed') return { title: `Replication of ${vm} failed`, body: ended.error ?? 'See the job log for the reason.', open };
  return { title: `Replication of ${vm} completed`, body: 'The replica is up to date.', open };
}

export interface FailoverNotice {
  title: string;
  body: string;
  /** What clicking it opens: the VM's panel, where the failover section shows it. */
  open: { vmContextId: string; jobId: null };
}

export function failoverNotificationFor(ended: FailoverEnded, level: NotificationLevel, vmName: string | null): FailoverNotice | null {
  if (level === 'off') return null;
  const failed = ended.status === 'failed' || ended.status === 'cleanup_required';
  if (level === 'failures' && !failed) return null;
  const vm = vmName ?? ended.vmContextId;
  const what = ended.rollback ? `Rollback of the ${ended.kind} failover of ${vm}` : `${ended.kind === 'live' ? 'Live' : 'Test'} failover of ${vm}`;
  const open = { vmContextId: ended.vmContextId, jobId: null };
  if (ended.status === 'cleanup_required') return { title: `${what} needs cleanup`, body: ended.error ?? 'Open the VM and run Clean up.', open };
  if (ended.status === 'failed') return { title: `${what} failed`, body: ended.error ?? 'See the failover log for the reason.', open };
  if (ended.rollback) return { title: `${what} completed`, body: 'The replica is back on the OMA appliance and ready for failover.', open };
  return { title: `${what} completed`, body: ended.kind === 'live' ? 'The VM now runs in CloudStack.' : 'The test VM runs in CloudStack; roll it back when done.', open };
}
