// Everything a benchmark starts (sshd, simulators, child processes, Chromium, cores) registers its
// teardown here, so a failing section still leaves no process behind.

export class Cleanup {
  private readonly items: { name: string; fn: () => unknown }[] = [];
  readonly failures: string[] = [];

  add(name: string, fn: () => unknown): void {
    this.items.push({ name, fn });
  }

  /** Runs every registered teardown, newest first; each gets at most `timeoutMs`. */
  async run(timeoutMs = 15_000): Promise<void> {
    while (this.items.length > 0) {
      const { name, fn } = this.items.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
        ]);
      } catch (e) {
        this.failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
