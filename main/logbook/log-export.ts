import type { LogLevel } from '../../shared/domain';
import type { Logbook } from './logbook';

/** The job log as a plain-text file: operations, their steps with timings, then their events. */
export function exportLog(logbook: Logbook, filter: { operationId?: string; vmContextId?: string; level?: LogLevel }): { filename: string; content: string } {
  const ops = logbook.operations({ ...filter, limit: 1000 });
  const lines: string[] = [`# MigrateKit Console job log, exported ${new Date().toISOString()}`];
  for (const op of ops) {
    lines.push('', `== ${op.id} [${op.kind}] ${op.title}`, `   status ${op.status}; started ${op.startedAt}; ended ${op.completedAt ?? '-'}${op.error ? `; error: ${op.error}` : ''}`);
    for (const s of logbook.steps(op.id)) {
      lines.push(`   step ${s.seq} ${s.name}: ${s.status}${s.durationMs !== null ? ` in ${(s.durationMs / 1000).toFixed(1)} s` : ''}${s.error ? ` (${s.error})` : ''}`);
    }
    for (const e of logbook.events({ operationId: op.id, ...(filter.level ? { level: filter.level } : {}), limit: 10_000 })) {
      lines.push(`   ${e.createdAt} ${e.level.toUpperCase().padEnd(5)} ${e.message}`);
    }
  }
  const scope = filter.operationId ?? filter.vmContextId ?? 'all';
  return { filename: `migratekit-log-${scope}-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`, content: lines.join('\n') + '\n' };
}
