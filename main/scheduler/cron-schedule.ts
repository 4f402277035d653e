import cron, { type ScheduledTask } from 'node-cron';
import { AppError } from '../../shared/errors';

// The one module that owns cron semantics. Previews, "next sync", missed-run detection and firing all
// use node-cron's own matcher for the expression and zone, so what the screen promises is what fires
// (lesson 20: a timezone that is stored but not applied). node-cron's runner steps from slot to slot
// with the same getNextMatch used here.

export interface CronSpec {
  expression: string;
  /** IANA zone the expression is read in (its wall clock, across DST changes). */
  timezone: string;
}

/** node-cron's matcher; not part of its typed surface, so its presence is checked on every parse. */
interface TimeMatcher {
  getNextMatch(date: Date): Date;
  match(date: Date): boolean;
}

export interface FiringHandlers {
  /** A slot is due now. */
  onFire(slot: Date): void;
  /** node-cron noticed a slot passed without firing (the process was blocked or the machine slept). */
  onMissed(slot: Date): void;
}

export interface CronFiring {
  stop(): void;
}

export interface MissedRuns {
  /** Up to `limit` missed slots, oldest first. */
  slots: Date[];
  /** How many slots were missed in all (counting stops at limit + 1: "more than limit"). */
  count: number;
  latest: Date | null;
}

export function isValidTimezone(tz: string): boolean {
  if (!tz || tz.trim() !== tz) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A readable reason the expression or zone is unusable, or null when both are valid. */
export function cronProblem(spec: CronSpec): string | null {
  const fields = spec.expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return `A cron expression has 5 fields (minute hour day month weekday) or 6 (with seconds first); "${spec.expression}" has ${fields.length}`;
  }
  const detail = cron.validateDetailed(spec.expression.trim());
  if (!detail.valid) {
    return `Invalid cron expression "${spec.expression}": ${detail.errors.map((e) => e.message).join('; ') || 'not understood'}`;
  }
  if (!isValidTimezone(spec.timezone)) return `Unknown time zone "${spec.timezone}" (use an IANA name such as Europe/Berlin or UTC)`;
  return null;
}

export class CronSchedule {
  private constructor(
    readonly spec: CronSpec,
    private readonly matcher: TimeMatcher,
  ) {}

  /** Validates and builds; a bad expression or zone is a validation error with the reason. */
  static parse(spec: CronSpec): CronSchedule {
    const problem = cronProblem(spec);
    if (problem) throw new AppError('validation', problem, { expression: spec.expression, timezone: spec.timezone });
    const normalised = { expression: spec.expression.trim().replace(/\s+/g, ' '), timezone: spec.timezone };
    const task = createTask(normalised, () => {});
    const matcher = (task as unknown as { timeMatcher?: TimeMatcher }).timeMatcher;
    void task.destroy();
    if (!matcher || typeof matcher.getNextMatch !== 'function') {
      throw new AppError('internal', 'node-cron no longer exposes its matcher; the scheduler cannot preview what will fire');
    }
    return new CronSchedule(normalised, matcher);
  }

  get fieldCount(): 5 | 6 {
    return this.spec.expression.split(' ').length === 6 ? 6 : 5;
  }

  /** The first slot strictly after `instant`. */
  nextAfter(instant: Date): Date {
    return this.matcher.getNextMatch(instant);
  }

  /** The next `count` slots after `from`, as the runner will fire them. */
  nextRuns(from: Date, count: number): Date[] {
    const out: Date[] = [];
    let at = from;
    for (let i = 0; i < count; i++) {
      at = this.nextAfter(at);
      out.push(at);
    }
    return out;
  }

  /** Slots in (after, until]: the runs that should have fired between two instants. */
  missedBetween(after: Date, until: Date, limit = 100): MissedRuns {
    const slots: Date[] = [];
    let count = 0;
    let latest: Date | null = null;
    let at = after;
    for (;;) {
      const next = this.nextAfter(at);
      if (next.getTime() > until.getTime()) break;
      count++;
      latest = next;
      if (slots.length < limit) slots.push(next);
      else if (count > limit) {
        // Past the limit only the latest matters (catch-up runs once); jump to it without listing.
        latest = this.lastAtOrBefore(next, until);
        break;
      }
      at = next;
    }
    return { slots, count, latest };
  }

  matches(instant: Date): boolean {
    return this.matcher.match(instant);
  }

  /** Starts node-cron firing for this schedule (the owner process only). */
  startFiring(handlers: FiringHandlers): CronFiring {
    const task = createTask(this.spec, (ctx) => handlers.onFire(ctx.date));
    task.on('execution:missed', (ctx) => handlers.onMissed(ctx.date));
    void task.start();
    return { stop: () => void task.destroy() };
  }

  private lastAtOrBefore(from: Date, until: Date): Date {
    let last = from;
    for (;;) {
      const next = this.nextAfter(last);
      if (next.getTime() > until.getTime()) return last;
      last = next;
    }
  }
}

function createTask(spec: CronSpec, fn: (ctx: { date: Date }) => void): ScheduledTask {
  // A schedule that is still busy when its next slot comes is handled by the scheduler (skip-if-running),
  // which records that decision; node-cron is only the clock.
  return cron.createTask(spec.expression, fn, { timezone: spec.timezone, suppressMissedWarning: true });
}
