import type { VmContextSummary } from '../../shared/domain';
import { replicaTornText } from '../../shared/replica-state-text';
import type { MigrationReport } from '../db/database';
import type { CliCommand } from './command';
import { formatBytes, table } from './table';

type MigrateView = Pick<MigrationReport, 'applied' | 'from' | 'to' | 'backupPath'> & { dataDir: string; schemaVersion: number };

export const coreCommands: CliCommand[] = [
  {
    path: ['contexts', 'list'],
    summary: 'List the VMs under management',
    run: (ctx) => ctx.invoke('contexts:list', {}),
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
    run: async (ctx): Promise<MigrateView> => {
      const session = await ctx.session();
      // Whoever opens the database migrates it; a running owner already did.
      if (session.local) return { ...session.local.migration, dataDir: session.local.dataDir, schemaVersion: session.local.schemaVersion() };
      const info = await ctx.invoke('app:info', {});
      return { applied: [], from: info.schemaVersion, to: info.schemaVersion, backupPath: null, dataDir: info.dataDir, schemaVersion: info.schemaVersion };
    },
    human: (v) => {
      const r = v as MigrateView;
      if (r.applied.length === 0) return `Database in ${r.dataDir} is up to date (schema ${r.schemaVersion}).`;
      return [
        `Migrated ${r.dataDir} from schema ${r.from} to ${r.to} (applied ${r.applied.join(', ')}).`,
        r.backupPath ? `Backup of the previous database: ${r.backupPath}` : 'New database; no backup needed.',
      ].join('\n');
    },
  },
];
