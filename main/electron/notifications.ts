// Pure: which ended jobs become a desktop notification, and what it says.
import type { NotificationLevel } from '../../shared/contract';
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
