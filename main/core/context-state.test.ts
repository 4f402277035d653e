import { describe, expect, it } from 'vitest';
import { VM_CONTEXT_STATUSES } from '../../shared/domain';
import { assertTransition, canTransition } from './context-state';

describe('VM context state machine', () => {
  it('allows the replication lifecycle and staying put', () => {
    expect(canTransition('discovered', 'replicating')).toBe(true);
    expect(canTransition('replicating', 'ready_for_failover')).toBe(true);
    expect(canTransition('ready_for_failover', 'replicating')).toBe(true);
    for (const s of VM_CONTEXT_STATUSES) expect(canTransition(s, s)).toBe(true);
  });

  it('needs an explicit in-progress state before a failover result (lesson 3)', () => {
    expect(canTransition('ready_for_failover', 'failed_over_live')).toBe(false);
    expect(canTransition('ready_for_failover', 'failing_over')).toBe(true);
    expect(canTransition('failing_over', 'failed_over_live')).toBe(true);
    expect(canTransition('discovered', 'failing_over')).toBe(false);
  });

  it('refuses illegal moves with a conflict naming both states', () => {
    expect(() => assertTransition('failed_over_live', 'replicating')).toThrow(/cannot go from failed_over_live to replicating/);
    try {
      assertTransition('discovered', 'failed_over_test');
    } catch (e) {
      expect((e as { code: string }).code).toBe('conflict');
    }
  });
});
