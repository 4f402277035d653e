// Pure: runs the quit steps in order, bounded by one deadline, and says what it is waiting for. The
// Electron shell supplies the steps (stop the scheduler and poller, checkpoint the database, close the
// tunnels, close the core) and exits whatever the report says: quitting never hangs.

export interface ShutdownStep {
  /** Shown while waiting, e.g. "tunnels". */
  name: string;
  run: () => Promise<void> | void;
}

export interface ShutdownOptions {
  timeoutMs: number;
  /** Called before each step with that step and the ones after it. */
  onWaiting?: (waitingFor: string[]) => void;
  /** Resolves after `ms`; injected so tests decide when the deadline passes. */
  after?: (ms: number) => { promise: Promise<void>; cancel: () => void };
}

export interface ShutdownReport {
  completed: string[];
  failed: { name: string; error: string }[];
  /** Steps still running or never started when the deadline passed (empty when all finished). */
  timedOutWaitingFor: string[];
}

export function realAfter(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export async function runShutdown(steps: ShutdownStep[], options: ShutdownOptions): Promise<ShutdownReport> {
  const report: ShutdownReport = { completed: [], failed: [], timedOutWaitingFor: [] };
  const deadline = (options.after ?? realAfter)(options.timeoutMs);
  let timedOut = false;
  const expired = deadline.promise.then(() => {
    timedOut = true;
  });
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      options.onWaiting?.(steps.slice(i).map((s) => s.name));
      // A step that throws synchronously is a failed step like one that rejects.
      const running = Promise.resolve().then(() => step.run());
      const outcome = await Promise.race([
        running.then(
          () => ({ ok: true as const }),
          (e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }),
        ),
        expired.then(() => null),
      ]);
      if (outcome === null || timedOut) {
        report.timedOutWaitingFor = steps.slice(i).map((s) => s.name);
        // The abandoned step may still settle; its rejection must not surface as unhandled.
        running.catch(() => {});
        return report;
      }
      if (outcome.ok) report.completed.push(step.name);
      else report.failed.push({ name: step.name, error: outcome.error });
    }
    return report;
  } finally {
    deadline.cancel();
  }
}

export function describeShutdownReport(r: ShutdownReport): string {
  if (r.timedOutWaitingFor.length > 0) return `Quit did not finish in time; gave up waiting for ${r.timedOutWaitingFor.join(', ')}`;
  if (r.failed.length > 0) return `Quit finished with errors: ${r.failed.map((f) => `${f.name} (${f.error})`).join('; ')}`;
  return 'Quit finished cleanly';
}
