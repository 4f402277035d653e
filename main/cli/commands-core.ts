import type { VmContextSummary } from '../../shared/domain';
import { replicaTornText } from '../../shared/replica-state-text';
import type { MigrationReport } from '../db/database';
import type { CliCommand } from './command';
import { formatBytes, table } from './table';

export const coreCommands: CliCommand[] = [
  {
    path: ['contexts', 'list'],
    summary: 'List the VMs under management',
    run: (ctx) => ctx.core().contexts.list(),
    human: (v) => {
      const list = v as VmContextSummary[];
      if (list.length === 0) return 'No VMs under management yet. Add one with `mkc contexts add`.';
      const torn = list.flatMap((c) => (c.replicaTornJobId ? [`${c.name}: ${replicaTornText(c)}`] : []));
      const rows = table(
        ['ID', 'NAME', 'STATUS', 'CPU', 'MEMORY', 'DISKS', 'JOBS (ok/fail)', 'LAST JOB'],
        list.map((c) => [
          c.id,
          c.name,
          c.replicaTornJobId ? `${c.status} (replica torn)` : c.status,
          c.specs.cpus,
          `${c.specs.memoryMb} MiB`,
          `${c.diskCount} (${formatBytes(c.totalBytes)})`,
          `${c.totalJobs} (${c.successfulJobs}/${c.failedJobs})`,
          c.currentJobId ?? c.lastSuccessfulJobId,
        ]),
      );
      return torn.length ? [rows, '', ...torn].join('\n') : rows;
    },
  },
  {
    path: ['db', 'migrate'],
    summary: 'Apply pending database migrations (a backup is taken first)',
    run: (ctx) => {
      const core = ctx.core();
      return { ...core.migration, dataDir: core.dataDir, schemaVersion: core.schemaVersion() };
    },
    human: (v) => {
      const r = v as MigrationReport & { dataDir: string; schemaVersion: number };
      if (r.applied.length === 0) return `Database in ${r.dataDir} is up to date (schema ${r.schemaVersion}).`;
      return [
        `Migrated ${r.dataDir} from schema ${r.from} to ${r.to} (applied ${r.applied.join(', ')}).`,
        r.backupPath ? `Backup of the previous database: ${r.backupPath}` : 'New database; no backup needed.',
      ].join('\n');
    },
  },
];
