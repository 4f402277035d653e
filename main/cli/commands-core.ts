import type { AppInfo } from '../../shared/contract';
import type { VmContextSummary } from '../../shared/domain';
import { replicaTornText } from '../../shared/replica-state-text';
import type { MigrationReport } from '../db/database';
import type { CliCommand } from './command';
import { formatBytes, table } from './table';

type MigrateView = Pick<MigrationReport, 'applied' | 'from' | 'to' | 'backupPath'> & { dataDir: string; schemaVersion: number };

export const coreCommands: CliCommand[] = [
  {
    path: ['status'],
    summary: 'Who owns the data directory (pid, since, which program), its schema, secret store and version',
    run: (ctx) => ctx.invoke('app:info', {}),
    human: (v) => {
      const i = v as AppInfo;
      const rows: [string, string][] = [
        ['Data directory', i.lab ? `${i.dataDir} (embedded lab, temporary)` : i.dataDir],
        ['Owner', i.owner.state === 'owned' ? `${i.owner.transport} (pid ${i.owner.pid}, since ${i.owner.since})` : `unknown — ${i.owner.detail ?? ''}`],
        ['Schema', `v${i.schemaVersion}`],
        ['Secret store', i.secretStore.problem ? `${i.secretStore.label} — unavailable: ${i.secretStore.problem}` : i.secretStore.label],
        ['Schedules', i.schedulesActive ? 'running in the owner' : 'not running (they run only in the desktop app, the lab or `mkc serve`)'],
        ['Version', i.version],
      ];
      return rows.map(([k, val]) => `${`${k}:`.padEnd(16)}${val}`).join('\n');
    },
  },
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
