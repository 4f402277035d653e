/**
 * Real time plus an offset a test moves forward: the engine's stall, not-found and lease periods can
 * stay long (a loaded machine never trips them by accident) and a test passes one on purpose, once
 * the condition it set up holds. The offset only grows within a run unless a test rewinds it while
 * nothing is being timed: a clock that steps back would make timestamps already written look young.
 */
export class TestClock {
  private offsetMs = 0;
  readonly now = (): number => Date.now() + this.offsetMs;
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  rewind(): void {
    this.offsetMs = 0;
  }
}
