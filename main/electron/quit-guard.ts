// Pure: asks before quitting while replication jobs are running. Electron events are adapted in main.ts.

export interface QuitGuardDeps {
  activeJobCount: () => number;
  /** Resolves true when the operator chooses to quit anyway. */
  confirm: (activeJobs: number) => Promise<boolean>;
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

export function quitConfirmationText(activeJobs: number): { message: string; detail: string } {
  const jobs = activeJobs === 1 ? '1 replication job is' : `${activeJobs} replication jobs are`;
  return {
    message: `${jobs} still running. Quit anyway?`,
    detail:
      'The appliances keep copying, but while the console is closed it misses their change-ID callbacks, ' +
      'so the next sync of those disks is a full copy instead of an incremental one. Schedules do not run ' +
      'until the console is started again.',
  };
}

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
    const active = this.deps.activeJobCount();
    if (active <= 0) return;
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
