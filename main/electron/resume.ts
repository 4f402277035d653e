// Pure: what the console does when the computer wakes up. Tunnels are reconnected (their SSH sessions
// died with the network), running jobs are reconciled with the VMA (sleep time counts neither as a
// stall nor as "unreachable"), the schedules' catch-up policy runs, and every running job's log says
// the computer slept and what was done about it.

export interface ResumeDeps {
  activeJobIds(): string[];
  /** Appliances to reconnect: those with a tunnel before the sleep and the VMAs of running jobs. */
  appliancesToReconnect(): { id: string; name: string }[];
  /** Drops the dead link and connects again; resolves with the resulting state. */
  reconnect(applianceId: string): Promise<{ ok: boolean; detail: string }>;
  reconcile(): Promise<{ resumed: number; failed: number }>;
  /** The schedules' catch-up policy for runs missed during the sleep; null until the scheduler exists. */
  catchUp(sleptFrom: Date | null, now: Date): Promise<string | null>;
  logJob(jobId: string, level: 'info' | 'warn', message: string): void;
  logApp(message: string, details: Record<string, unknown>): void;
}

export interface ResumeReport {
  slept: string;
  tunnels: { id: string; name: string; ok: boolean; detail: string }[];
  reconciled: { resumed: number; failed: number } | { error: string };
  catchUp: string | null;
  summary: string;
}

function duration(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'less than a minute';
  if (min < 90) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function handleResume(deps: ResumeDeps, suspendedAt: Date | null, resumedAt: Date): Promise<ResumeReport> {
  const slept = suspendedAt
    ? `The computer slept for ${duration(resumedAt.getTime() - suspendedAt.getTime())} (${suspendedAt.toISOString()} to ${resumedAt.toISOString()})`
    : `The computer woke from sleep at ${resumedAt.toISOString()}`;
  // Jobs running before anything below changes their state: they are the ones whose log records the sleep.
  const jobs = deps.activeJobIds();
  const tunnels = await Promise.all(
    deps.appliancesToReconnect().map(async (a) => {
      try {
        return { ...a, ...(await deps.reconnect(a.id)) };
      } catch (e) {
        return { ...a, ok: false, detail: errorText(e) };
      }
    }),
  );
  let reconciled: ResumeReport['reconciled'];
  try {
    reconciled = await deps.reconcile();
  } catch (e) {
    reconciled = { error: errorText(e) };
  }
  let catchUp: string | null;
  try {
    catchUp = await deps.catchUp(suspendedAt, resumedAt);
  } catch (e) {
    catchUp = `schedule catch-up failed: ${errorText(e)}`;
  }
  const parts: string[] = [];
  if (tunnels.length > 0) {
    parts.push(`tunnels: ${tunnels.map((t) => `${t.name} ${t.ok ? 'reconnected' : `not reconnected (${t.detail})`}`).join(', ')}`);
  } else {
    parts.push('no tunnels to reconnect');
  }
  parts.push('error' in reconciled ? `reconciling with the VMA failed: ${reconciled.error}` : `jobs reconciled with the VMA: ${reconciled.resumed} polled again, ${reconciled.failed} failed`);
  if (catchUp) parts.push(catchUp);
  const summary = `${slept}; on resume ${parts.join('; ')}.`;
  const trouble = tunnels.some((t) => !t.ok) || 'error' in reconciled;
  for (const id of jobs) deps.logJob(id, trouble ? 'warn' : 'info', summary);
  deps.logApp('resumed from sleep', { slept, tunnels, reconciled, catchUp });
  return { slept, tunnels, reconciled, catchUp, summary };
}
