import type { CloudStackConfigView, ConnectionTestResult, JobDetail } from '../../shared/contract';
import { JOB_STATUSES, type ReplicationJob, type VmContextSummary } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { Core } from '../core/core';
import type { CliCommand, CommandContext } from './command';
import { flag, int, onePositional, reqStr, secretFromStdin, str } from './options';
import { formatBytes, table } from './table';
import { formatDuration } from '../../shared/format';

export function resolveContext(core: Core, nameOrId: string): VmContextSummary {
  const byId = core.contexts.get(nameOrId);
  if (byId) return byId;
  const byName = core.contexts.findByName(nameOrId);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new AppError('validation', `${byName.length} managed VMs are named ${nameOrId}; use the context id (${byName.map((c) => c.id).join(', ')})`);
  throw new AppError('not_found', `No managed VM named ${nameOrId}; see \`mkc contexts list\``);
}

const line = (j: ReplicationJob) =>
  `${j.id}  ${j.status.padEnd(12)} ${String(j.progressPercent.toFixed(1)).padStart(5)} %  ${j.phase}${j.rateBps ? `  ${formatBytes(j.rateBps)}/s` : ''}${j.etaSeconds !== null && j.status === 'replicating' ? `  ETA ${formatDuration(j.etaSeconds)}` : ''}${j.error ? `  — ${j.error}` : ''}`;

/** Follows a job in this process (poller included) until it ends or the operator interrupts. */
async function follow(ctx: CommandContext, jobId: string): Promise<ReplicationJob> {
  const core = ctx.core();
  await core.startBackground();
  let last = '';
  const print = () => {
    const j = core.jobs.require(jobId);
    const l = line(j);
    if (l !== last && !ctx.json) ctx.out(l);
    last = l;
  };
  const timer = setInterval(print, 1000);
  try {
    const settled = await Promise.race([core.engine.whenSettled(jobId), ctx.interrupted.then(() => null)]);
    print();
    if (!settled) {
      ctx.err(`Stopped following ${jobId}; it continues where a console runs (\`mkc jobs watch ${jobId}\` to follow it again).`);
      return core.jobs.require(jobId);
    }
    return settled;
  } finally {
    clearInterval(timer);
  }
}

const failIfNotCompleted = (j: ReplicationJob): ReplicationJob => {
  if (j.status === 'failed') throw new AppError('remote_error', `Job ${j.id} failed: ${j.error ?? 'no reason recorded'}`, { job: j });
  return j;
};

export const jobCommands: CliCommand[] = [
  {
    path: ['replicate'],
    usage: '<vm name or context id>',
    summary: 'Start a sync through the canonical path and follow it to the end (--detach to return once started)',
    options: [{ name: 'detach', type: 'boolean', description: 'return as soon as the copy has started on the VMA' }],
    run: async (ctx) => {
      const core = ctx.core();
      const c = resolveContext(core, onePositional(ctx, 'VM name or context id'));
      const { jobId } = await core.engine.start(c.id, { trigger: 'cli' });
      if (!ctx.json) ctx.out(`Started ${jobId} for ${c.name}`);
      if (flag(ctx, 'detach')) {
        await core.engine.drain();
        return core.jobs.require(jobId);
      }
      return failIfNotCompleted(await follow(ctx, jobId));
    },
    human: (v) => `${(v as ReplicationJob).id} ${(v as ReplicationJob).status}`,
  },
  {
    path: ['jobs', 'list'],
    summary: 'List replication jobs',
    options: [
      { name: 'vm', type: 'string', description: 'only this VM (name or context id)' },
      { name: 'status', type: 'string', choices: JOB_STATUSES, description: 'only jobs in this status' },
      { name: 'limit', type: 'number', description: 'at most this many (default 50)' },
    ],
    run: (ctx) => {
      const core = ctx.core();
      const vm = str(ctx, 'vm');
      return core.jobs.list({
        ...(vm ? { contextId: resolveContext(core, vm).id } : {}),
        ...(str(ctx, 'status') ? { status: str(ctx, 'status') as ReplicationJob['status'] } : {}),
        limit: int(ctx, 'limit') ?? 50,
      });
    },
    human: (v) =>
      (v as ReplicationJob[]).length === 0
        ? 'No jobs.'
        : table(['JOB', 'TYPE', 'STATUS', 'PROGRESS', 'STARTED', 'ENDED', 'ERROR'], (v as ReplicationJob[]).map((j) => [j.id, j.jobType, j.status, `${j.progressPercent.toFixed(1)} %`, j.startedAt, j.completedAt, j.error])),
  },
  {
    path: ['jobs', 'show'],
    usage: '<job id>',
    summary: 'Show one job with its disks and step timings',
    run: (ctx): JobDetail => {
      const core = ctx.core();
      const id = onePositional(ctx, 'job id');
      return { job: core.jobs.require(id), disks: core.jobs.jobDisks(id), steps: core.logbook.steps(id) };
    },
    human: (v) => {
      const d = v as JobDetail;
      return [
        line(d.job),
        '',
        table(['DISK', 'SYNC', 'STATUS', 'PERCENT', 'PREVIOUS CHANGE ID', 'CHANGE ID'], d.disks.map((x) => [x.diskKey, x.syncType, x.status, `${x.percent.toFixed(0)} %`, x.previousChangeId, x.changeId])),
        '',
        table(['STEP', 'STATUS', 'SECONDS', 'ERROR'], d.steps.map((s) => [s.name, s.status, s.durationMs === null ? null : (s.durationMs / 1000).toFixed(1), s.error])),
      ].join('\n');
    },
  },
  {
    path: ['jobs', 'watch'],
    usage: '<job id>',
    summary: 'Poll a job in this process until it ends (also resumes jobs left by a closed console)',
    run: async (ctx) => failIfNotCompleted(await follow(ctx, onePositional(ctx, 'job id'))),
    human: (v) => `${(v as ReplicationJob).id} ${(v as ReplicationJob).status}`,
  },
  {
    path: ['jobs', 'cancel'],
    usage: '<job id>',
    summary: 'Cancel a running job (asks the VMA to clean up)',
    run: (ctx) => ctx.core().engine.cancel(onePositional(ctx, 'job id')),
    human: (v) => `${(v as ReplicationJob).id} ${(v as ReplicationJob).status}`,
  },
  {
    path: ['jobs', 'delete'],
    usage: '<job id>',
    summary: 'Delete a finished job (--delete-volumes also detaches and deletes its CloudStack volumes)',
    options: [{ name: 'delete-volumes', type: 'boolean', description: 'detach and delete the volumes this job wrote' }],
    run: async (ctx) => {
      await ctx.core().engine.deleteJob(onePositional(ctx, 'job id'), flag(ctx, 'delete-volumes'));
      return { deleted: true };
    },
    human: () => 'Deleted.',
  },
  {
    path: ['serve'],
    summary: 'Run the core headless: resume and poll jobs until interrupted (Ctrl-C)',
    run: async (ctx) => {
      const core = ctx.core();
      await core.startBackground();
      if (!ctx.json) ctx.out(`Serving ${core.dataDir}: ${core.activeJobCount()} active job(s). Ctrl-C to stop.`);
      await ctx.interrupted;
      return { stopped: true, activeJobs: core.activeJobCount() };
    },
    human: (v) => `Stopped; ${(v as { activeJobs: number }).activeJobs} job(s) still active will be reconciled on the next start.`,
  },
  {
    path: ['cloudstack', 'configure'],
    summary: 'Set the CloudStack API URL, keys (stdin: API key line, then secret key line) and picks',
    options: [
      { name: 'url', type: 'string', required: true, description: 'API URL, e.g. https://cloud.example/client/api' },
      { name: 'keys-stdin', type: 'boolean', description: 'read "<api key>\\n<secret key>" from standard input' },
      { name: 'zone', type: 'string', description: 'zone id' },
      { name: 'disk-offering', type: 'string', description: 'disk offering id (customized size)' },
      { name: 'service-offering', type: 'string', description: 'service offering id' },
      { name: 'template', type: 'string', description: 'template id' },
      { name: 'network', type: 'string', description: 'default network id' },
      { name: 'oma-appliance', type: 'string', description: 'OMA appliance name or id' },
      { name: 'oma-vm-id', type: 'string', description: 'the OMA appliance VM id in CloudStack' },
      { name: 'headroom', type: 'number', description: 'extra volume size in percent (default 5)' },
    ],
    run: async (ctx): Promise<CloudStackConfigView> => {
      const core = ctx.core();
      let apiKey: string | undefined;
      let secretKey: string | undefined;
      if (flag(ctx, 'keys-stdin')) {
        const [a, s] = (await secretFromStdin(ctx, 'keys')).split(/\r?\n/);
        if (!a?.trim() || !s?.trim()) throw new AppError('validation', 'Standard input must hold the API key on the first line and the secret key on the second');
        apiKey = a.trim();
        secretKey = s.trim();
      }
      const oma = str(ctx, 'oma-appliance');
      return core.cloudstack.save({
        apiUrl: reqStr(ctx, 'url'),
        ...(apiKey ? { apiKey, secretKey } : {}),
        ...(str(ctx, 'zone') ? { zoneId: str(ctx, 'zone') } : {}),
        ...(str(ctx, 'disk-offering') ? { diskOfferingId: str(ctx, 'disk-offering') } : {}),
        ...(str(ctx, 'service-offering') ? { serviceOfferingId: str(ctx, 'service-offering') } : {}),
        ...(str(ctx, 'template') ? { templateId: str(ctx, 'template') } : {}),
        ...(str(ctx, 'network') ? { defaultNetworkId: str(ctx, 'network') } : {}),
        ...(oma ? { omaApplianceId: core.appliances.record(oma).id } : {}),
        ...(str(ctx, 'oma-vm-id') ? { omaVmId: str(ctx, 'oma-vm-id') } : {}),
        ...(int(ctx, 'headroom') !== undefined ? { volumeHeadroomPercent: int(ctx, 'headroom') } : {}),
      });
    },
    human: (v) => `Saved. ${JSON.stringify(v)}`,
  },
  {
    path: ['cloudstack', 'show'],
    summary: 'Show the CloudStack configuration (keys are never shown)',
    run: (ctx) => ctx.core().cloudstack.view(),
    human: (v) => table(['SETTING', 'VALUE'], Object.entries(v as CloudStackConfigView).map(([k, x]) => [k, x === null ? '-' : String(x)])),
  },
  {
    path: ['cloudstack', 'test'],
    summary: 'Test the CloudStack connection and report exactly what is wrong',
    run: async (ctx) => {
      const { testConnection } = await import('../cloudstack/connection-test');
      const r = await testConnection(ctx.core().cloudstack.client());
      if (!r.ok) throw new AppError('remote_error', r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`).join('; '), { result: r });
      return r;
    },
    human: (v) => (v as ConnectionTestResult).checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}`).join('\n'),
  },
];

