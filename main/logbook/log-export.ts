import fs from 'node:fs';
import path from 'node:path';
import type { LogLevel } from '../../shared/domain';
import type { LogSearch } from '../../shared/contract';
import type { Logbook } from './logbook';

type ExportFilter = LogSearch & { operationId?: string; level?: LogLevel };

/** The job log as a plain-text file: operations, their steps with timings, then their events. */
export function exportLog(logbook: Logbook, filter: ExportFilter): { filename: string; content: string } {
  const { level, ...search } = filter;
  const ops = logbook.operations({ ...search, limit: 1000 });
  const lines: string[] = [`# MigrateKit Console job log, exported ${new Date().toISOString()}`];
  for (const op of ops) {
    lines.push('', `== ${op.id} [${op.kind}] ${op.title}`, `   status ${op.status}; started ${op.startedAt}; ended ${op.completedAt ?? '-'}${op.error ? `; error: ${op.error}` : ''}`);
    for (const s of logbook.steps(op.id)) {
      lines.push(`   step ${s.seq} ${s.name}: ${s.status}${s.durationMs !== null ? ` in ${(s.durationMs / 1000).toFixed(1)} s` : ''}${s.error ? ` (${s.error})` : ''}`);
    }
    for (const e of logbook.events({ operationId: op.id, ...(level ? { level } : {}), limit: 10_000 })) {
      lines.push(`   ${e.createdAt} ${e.level.toUpperCase().padEnd(5)} ${e.message}`);
    }
  }
  const scope = filter.operationId ?? filter.vmContextId ?? 'all';
  return { filename: `migratekit-log-${scope}-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`, content: lines.join('\n') + '\n' };
}

/**
 * Writes the export into the data directory's `exports` folder (owner-only, like the database beside
 * it) so the operator is told a real path, whichever window or transport asked.
 */
export function writeLogExport(logbook: Logbook, dataDir: string, filter: ExportFilter): { filename: string; path: string; content: string } {
  const { filename, content } = exportLog(logbook, filter);
  const dir = path.join(dataDir, 'exports');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, filename);
  fs.writeFileSync(file, content, { mode: 0o600 });
  return { filename, path: file, content };
}
