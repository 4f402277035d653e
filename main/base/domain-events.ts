import type { JobTrigger, OperationKind, StepStatus, TerminalJobStatus } from '../../shared/domain';

// Internal, typed facts about what happened in the core, for the core's own listeners (the renderer
// bridge, the desktop shell, the scheduler). Separate from the renderer's EventBus (main/ipc/event-bus),
// which coalesces and throttles frames for windows: a domain event is delivered once, synchronously,
// in order, to every listener, and is never merged away. Each event is emitted from the one place the
// thing happens (see the emitters named below).

export type DomainEvent =
  /** ReplicationEngine.start, right after the job is claimed. */
  | { type: 'job-started'; jobId: string; vmContextId: string; trigger: JobTrigger }
  /** ReplicationEngine.finish, the one terminal path of a job. */
  | { type: 'job-ended'; jobId: string; vmContextId: string; outcome: TerminalJobStatus; error: string | null }
  /** The step runner (main/engine/step-runner.ts) as a recorded step starts or ends. */
  | {
      type: 'step-changed';
      kind: OperationKind;
      operationId: string;
      vmContextId: string | null;
      step: string;
      status: Extract<StepStatus, 'running' | 'completed' | 'failed' | 'cancelled'>;
      durationMs: number | null;
      error: string | null;
    }
  /** Whenever a job is claimed or ends: the number of jobs not yet in a terminal state. */
  | { type: 'active-jobs-changed'; count: number };

export type DomainEventType = DomainEvent['type'];
export type DomainEventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

type Listener<T extends DomainEventType> = (e: DomainEventOf<T>) => void;
type AnyListener = (e: DomainEvent) => void;

export class DomainEvents {
  private readonly listeners = new Map<DomainEventType, Set<AnyListener>>();

  /** `onListenerError`: a broken listener is reported here and never stops the emitter or the others. */
  constructor(private readonly onListenerError: (type: DomainEventType, error: unknown) => void = () => {}) {}

  on<T extends DomainEventType>(type: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const stored = listener as unknown as AnyListener;
    set.add(stored);
    return () => set.delete(stored);
  }

  emit<T extends DomainEventType>(event: DomainEventOf<T>): void {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) {
      try {
        listener(event);
      } catch (e) {
        this.onListenerError(event.type, e);
      }
    }
  }
}
