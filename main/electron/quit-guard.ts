// Pure: asks before quitting while replication jobs, failovers or rollbacks are running. Electron
// events are adapted in console-app.ts.
import type { FailoverType } from '../../shared/domain';

/** A failover (or its rollback) still working, as the quit question and the tray name it. */
export interface RunningFailoverView {
  failoverId: string;
  vmContextId: string;
  /** The source VM's name. */
  vmName: string;
  kind: FailoverType;
  /** True when what works is the rollback (or cleanup), not the failover itself. */
  rollback: boolean;
  /** The phase it is in (a recorded step name), when known. */
  phase: string | null;
}

/** What is running when the operator quits. */
export interface QuitActivity {
  jobs: number;
  failovers: RunningFailoverView[];
}

export interface QuitGuardDeps {
  activity: () => QuitActivity;
  /** Resolves true when the operator chooses to quit anyway. */
  confirm: (activity: QuitActivity) => Promise<boolean>;
}

/** The core gains `activeJobCount()` with the engine; until then nothing counts as running. */
export function activeJobCounter(core: object): () => number {
  return () => {
    const fn = (core as { activeJobCount?: unknown }).activeJobCount;
    if (typeof fn !== 'function') return 0;
    const n = (fn as () => unknown).call(core);
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
  };
}

const count = (n: number, one: string, many: string) => (n === 1 ? `1 ${one}` : `${n} ${many}`);

/**
 * The question and its consequence. A failover interrupted by quitting stops at its next step and the
 * next start of the console undoes it (main/failover/failover-service.ts, reconcile); a rollback is
 * finished by the next start.
 */
export function quitConfirmationText(activity: QuitActivity | number): { message: string; detail: string } {
  const a: QuitActivity = typeof activity === 'number' ? { jobs: activity, failovers: [] } : activity;
  const failovers = a.failovers.filter((f) => !f.rollback);
  const rollbacks = a.failovers.filter((f) => f.rollback);
  const running: string[] = [];
  if (a.jobs > 0) running.push(count(a.jobs, 'replication job', 'replication jobs'));
  if (failovers.length > 0) running.push(failovers.length === 1 ? `the ${failovers[0]!.kind} failover of ${failovers[0]!.vmName}` : `${failovers.length} failovers`);
  if (rollbacks.length > 0) running.push(rollbacks.length === 1 ? `the rollback of ${rollbacks[0]!.vmName}` : `${rollbacks.length} rollbacks`);
  const single = running.length === 1 && (a.jobs === 1 || failovers.length === 1 || rollbacks.length === 1);
  const joined = `${running.length > 1 ? `${running.slice(0, -1).join(', ')} and ${running.at(-1)!}` : (running[0] ?? 'nothing')} ${single ? 'is' : 'are'}`;
  const sentences: string[] = [];
  if (a.jobs > 0) {
    sentences.push(
      'The appliances keep copying, but while the console is closed it misses their change-ID callbacks, ' +
        'so the next sync of those disks is a full copy instead of an incremental one.',
    );
  }
  if (failovers.length > 0) {
    const live = failovers.some((f) => f.kind === 'live');
    sentences.push(
      `${failovers.length === 1 ? 'The failover stops at the next step and does not complete' : 'The failovers stop at the next step and do not complete'}: ` +
        'the next start of the console undoes what was done (the CloudStack VM is removed and the volumes go back to the OMA appliance).' +
        (live ? ' A live failover also powers the source VM back on unless you chose to keep it off, and you fail over again afterwards.' : ''),
    );
  }
  if (rollbacks.length > 0) sentences.push(`${rollbacks.length === 1 ? 'The rollback stops' : 'The rollbacks stop'} at the next step and the next start of the console finishes ${rollbacks.length === 1 ? 'it' : 'them'}.`);
  sentences.push('Schedules do not run until the console is started again.');
  return { message: `${joined.charAt(0).toUpperCase()}${joined.slice(1)} still running. Quit anyway?`, detail: sentences.join(' ') };
}

const busy = (a: QuitActivity) => a.jobs > 0 || a.failovers.length > 0;

export class QuitGuard {
  private confirmed = false;
  private asking = false;

  constructor(private readonly deps: QuitGuardDeps) {}

  /**
   * Call from a cancellable close/quit event. Lets it through when nothing runs or the operator
   * already agreed; otherwise cancels it, asks once (repeated attempts while the dialog is open are
   * swallowed) and calls `proceed` if the answer is yes.
   */
  intercept(preventDefault: () => void, proceed: () => void): void {
    if (this.confirmed) return;
    const active = this.deps.activity();
    if (!busy(active)) return;
    preventDefault();
    if (this.asking) return;
    this.asking = true;
    this.deps
      .confirm(active)
      .catch(() => false)
      .then((yes) => {
        this.asking = false;
        if (!yes) return;
        this.confirmed = true;
        proceed();
      });
  }

  /** True once the operator agreed to quit (or nothing required asking). */
  get quitConfirmed(): boolean {
    return this.confirmed;
  }
}
