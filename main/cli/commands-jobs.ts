import type { CloudStackConfigView, ConnectionTestResult, EventPayload, JobDetail } from '../../shared/contract';
import { JOB_STATUSES, TERMINAL_JOB_STATUSES, type JobStatus, type ReplicationJob, type VmContextSummary } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext } from './command';
import type { ConsoleSession } from './session';
import { flag, num, onePositional, reqStr, secretFromStdin, str } from './options';
import { formatBytes, table } from './table';
import { formatDuration } from '../../shared/format';
import { replicaTornText } from '../../shared/replica-state-text';

/** A managed VM by context id or exact name, looked up through the same channel the UI lists them with. */
export async function resolveContext(ctx: CommandContext, nameOrId: string): Promise<VmContextSummary> {
  const all = await ctx.invoke('contexts:list', {});
  const byId = all.find((c) => c.id === nameOrId);
  if (byId) return byId;
  const byName = all.filter((c) => c.name === nameOrId);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new AppError('validation', `${byName.length} managed VMs are named ${nameOrId}; use the context id (${byName.map((c) => c.id).join(', ')})`);
  throw new AppError('not_found', `No managed VM named ${nameOrId}; see \`mkc contexts list\``);
}

type JobLine = Pick<ReplicationJob, 'status' | 'progressPercent' | 'phase' | 'rateBps' | 'etaSeconds' | 'error'> &
  Partial<Pick<ReplicationJob, 'totalBytes' | 'bytesTransferred' | 'capacityBytes'>> & { id?: string; jobId?: string };

/** Bytes this sync must move as the VMA reports them; capacity apart, so neither reads as the other. */
const bytesText = (j: JobLine) =>
  (j.totalBytes ?? 0) > 0 || (j.bytesTransferred ?? 0) > 0
    ? `  ${formatBytes(j.bytesTransferred ?? 0)} of ${formatBytes(j.totalBytes ?? 0)} to move${j.capacityBytes ? ` (capacity ${formatBytes(j.capacityBytes)})` : ''}`
    : '';

const line = (j: JobLine) =>
  `${j.id ?? j.jobId}  ${j.status.padEnd(12)} ${String(j.progressPercent.toFixed(1)).padStart(5)} %  ${j.phase}${bytesText(j)}${j.rateBps ? `  ${formatBytes(j.rateBps)}/s` : ''}${j.etaSeconds !== null && j.status === 'replicating' ? `  ETA ${formatDuration(j.etaSeconds)}` : ''}${j.error ? `  — ${j.error}` : ''}`;

const isTerminal = (s: JobStatus) => (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(s);
/** `--detach` returns once the VMA copies: setup is over, or the job ended before. */
const copyStarted = (s: JobStatus) => s === 'replicating' || isTerminal(s);

type FollowOutcome = { kind: 'reached'; job: ReplicationJob } | { kind: 'interrupted' } | { kind: 'lost' } | { kind: 'error'; error: unknown };

/** How often the job is read again besides the pushed events, in case an event was missed. */
const RECHECK_MS = 5000;

function followOnce(ctx: CommandContext, session: ConsoleSession, jobId: string, until: (s: JobStatus) => boolean, print: (j: JobLine) => void): Promise<FollowOutcome> {
  return new Promise((resolve) => {
    let finished = false;
    let unsubscribe: (() => void) | null = null;
    const finish = (o: FollowOutcome) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      unsubscribe?.();
      resolve(o);
    };
    const check = async () => {
      try {
        const { job } = await session.invoke('jobs:get', { id: jobId });
        print(job);
        if (until(job.status)) finish({ kind: 'reached', job });
      } catch (e) {
        if (e instanceof AppError && e.code === 'unreachable') return; // the owner went away: onLost decides
        finish({ kind: 'error', error: e });
      }
    };
    const timer = setInterval(() => void check(), RECHECK_MS);
    session.onLost(() => finish({ kind: 'lost' }));
    void ctx.interrupted.then(() => finish({ kind: 'interrupted' }));
    session
      .on(['jobs:progress'], (_channel, payload) => {
        for (const u of (payload as EventPayload<'jobs:progress'>).updates) {
          if (u.jobId !== jobId) continue;
          print(u);
          // The event says it ended; the job record carries the final error and timings.
          if (until(u.status)) void check();
        }
      })
      .then((off) => {
        unsubscribe = off;
        if (finished) off();
        // Read once after subscribing: the job may have ended before the subscription existed.
        return check();
      })
      .catch((e: unknown) => finish({ kind: 'error', error: e }));
  });
}

/** A job that ended after writing blocks left the replica torn: say so where the operator looks. */
async function reportTorn(ctx: CommandContext, job: ReplicationJob): Promise<void> {
  if (job.status === 'completed') return;
  const vm = (await ctx.invoke('contexts:list', {})).find((c) => c.id === job.vmContextId);
  const torn = vm?.replicaTornJobId === job.id ? replicaTornText(vm) : null;
  if (torn) ctx.err(torn);
}

/**
 * Follows a job from the events of whoever runs it (the owner, or this process when it owns the data
 * directory) until `until` holds or the operator interrupts. When the owner goes away, the command
 * opens a new session: another owner serves it, or this process takes over and resumes the job.
 */
async function follow(ctx: CommandContext, jobId: string, until: (s: JobStatus) => boolean = isTerminal): Promise<ReplicationJob> {
  let last = '';
  const print = (j: JobLine) => {
    const l = line(j);
    if (l !== last && !ctx.json) ctx.out(l);
    last = l;
  };
  let session = await ctx.session();
  for (;;) {
    await session.runBackground();
    const o = await followOnce(ctx, session, jobId, until, print);
    if (o.kind === 'reached') {
      await reportTorn(ctx, o.job);
      return o.job;
    }
    if (o.kind === 'error') throw o.error;
    if (o.kind === 'lost') {
      ctx.err(`The owner of the data directory (pid ${session.owner.pid}) went away; following ${jobId} again.`);
      session = await ctx.reopen();
      continue;
    }
    const where = session.servedBy === 'owner' ? `in ${session.owner.transport} (pid ${session.owner.pid})` : 'once an owner runs (`mkc serve` or the desktop app)';
    ctx.err(`Stopped following ${jobId}; it continues ${where}. \`mkc jobs watch ${jobId}\` follows it again.`);
    return (await ctx.invoke('jobs:get', { id: jobId })).job;
  }
}

/** The command's exit code is the job's outcome: only a completed job exits 0. */
const failUnlessCompleted = (j: ReplicationJob): ReplicationJob => {
  if (j.status === 'failed') throw new AppError('remote_error', `Job ${j.id} failed: ${j.error ?? 'no reason recorded'}`, { job: j });
  if (j.status === 'cancelled') throw new AppError('conflict', `Job ${j.id} was cancelled${j.error ? `: ${j.error}` : ''}`, { job: j });
  return j;
};

const DETACH_WITHOUT_OWNER =
  'Nobody owns this data directory, so after `mkc` returned nobody would receive the change-ID callbacks the VMA sends when each disk finishes, ' +
  'and the job would not be polled. Start an owner first (`mkc serve` on this machine, or the desktop app) and run this again, or run without --detach to follow the job to its end.';

export const jobCommands: CliCommand[] = [
  {
    path: ['replicate'],
    args: [{ name: 'vm', description: 'VM name or context id' }],
    summary: 'Start a sync through the canonical path and follow it to the end (--detach to return once started)',
    options: [{ name: 'detach', type: 'boolean', description: 'return as soon as the copy has started on the VMA' }],
    run: async (ctx) => {
      const target = onePositional(ctx);
      const detach = flag(ctx, 'detach');
      const session = await ctx.session();
      if (detach && session.servedBy === 'in-process') throw new AppError('not_available', DETACH_WITHOUT_OWNER);
      const c = await resolveContext(ctx, target);
      const { jobId } = await ctx.invoke('replication:start', { contextId: c.id });
      if (!ctx.json) ctx.out(`Started ${jobId} for ${c.name}${session.servedBy === 'owner' ? ` in ${session.owner.transport} (pid ${session.owner.pid})` : ''}`);
      if (detach) {
        const j = await follow(ctx, jobId, copyStarted);
        // Returned once the copy runs; a job that already ended reports its outcome like a followed one.
        return isTerminal(j.status) ? failUnlessCompleted(j) : j;
      }
      return failUnlessCompleted(await follow(ctx, jobId));
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
    run: async (ctx) => {
      const vm = str(ctx, 'vm');
      const limit = num(ctx, 'limit');
      return ctx.invoke('jobs:list', {
        ...(vm ? { contextId: (await resolveContext(ctx, vm)).id } : {}),
        ...(str(ctx, 'status') ? { status: str(ctx, 'status') as JobStatus } : {}),
        limit: limit ?? 50,
      });
    },
    human: (v) =>
      (v as ReplicationJob[]).length === 0
        ? 'No jobs.'
        : table(['JOB', 'TYPE', 'STATUS', 'PROGRESS', 'STARTED', 'ENDED', 'ERROR'], (v as ReplicationJob[]).map((j) => [j.id, j.jobType, j.status, `${j.progressPercent.toFixed(1)} %`, j.startedAt, j.completedAt, j.error])),
  },
  {
    path: ['jobs', 'show'],
    args: [{ name: 'job-id', description: 'job id' }],
    summary: 'Show one job with its disks and step timings',
    run: (ctx): Promise<JobDetail> => ctx.invoke('jobs:get', { id: onePositional(ctx) }),
    human: (v) => {
      const d = v as JobDetail;
      return [
        line(d.job),
        '',
        table(['DISK', 'SYNC', 'STATUS', 'PERCENT', 'PREVIOUS CHANGE ID', 'CHANGE ID'], d.disks.map((x) => [x.diskKey, x.syncType, x.status, `${x.percent.toFixed(0)} %`, x.previousChangeId, x.changeId])),
        '',
        table(['STEP', 'STATUS', 'SECONDS', 'ERROR'], d.steps.map((s) => [s.name, s.status, s.durationMs === null ? null : (s.durationMs / 1000).toFixed(1), s.error])),
        ...(d.phases.length > 0 ? ['', table(['VMA PHASE', 'SINCE'], d.phases.map((p) => [p.name, p.at]))] : []),
      ].join('\n');
    },
  },
  {
    path: ['jobs', 'watch'],
    args: [{ name: 'job-id', description: 'job id' }],
    summary: 'Follow a job until it ends; exits non-zero unless it completed (resumes it when no console owns the data)',
    run: async (ctx) => failUnlessCompleted(await follow(ctx, onePositional(ctx))),
    human: (v) => `${(v as ReplicationJob).id} ${(v as ReplicationJob).status}`,
  },
  {
    path: ['jobs', 'cancel'],
    args: [{ name: 'job-id', description: 'job id' }],
    summary: 'Cancel a running job (asks the VMA to clean up)',
    run: (ctx) => ctx.invoke('jobs:cancel', { id: onePositional(ctx) }),
    human: (v) => `${(v as ReplicationJob).id} ${(v as ReplicationJob).status}`,
  },
  {
    path: ['jobs', 'delete'],
    args: [{ name: 'job-id', description: 'job id' }],
    summary: 'Delete a finished job (--delete-volumes also detaches and deletes its CloudStack volumes)',
    options: [{ name: 'delete-volumes', type: 'boolean', description: 'detach and delete the volumes this job wrote' }],
    run: (ctx) => ctx.invoke('jobs:delete', { id: onePositional(ctx), ...(flag(ctx, 'delete-volumes') ? { deleteVolumes: true } : {}) }),
    human: () => 'Deleted.',
  },
  {
    path: ['serve'],
    summary: 'Own the data directory headless: run jobs, tunnels and callbacks, and serve `mkc` commands until Ctrl-C',
    mustOwn: true,
    run: async (ctx) => {
      const session = await ctx.session();
      const core = session.local!;
      await session.runBackground();
      if (!ctx.json) ctx.out(`Serving ${core.dataDir} as its owner (pid ${process.pid}): ${core.activeJobCount()} active job(s). Ctrl-C to stop.`);
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
      let apiKey: string | undefined;
      let secretKey: string | undefined;
      if (flag(ctx, 'keys-stdin')) {
        const [a, s] = (await secretFromStdin(ctx, 'keys')).split(/\r?\n/);
        if (!a?.trim() || !s?.trim()) throw new AppError('validation', 'Standard input must hold the API key on the first line and the secret key on the second');
        apiKey = a.trim();
        secretKey = s.trim();
      }
      const oma = str(ctx, 'oma-appliance');
      const headroom = num(ctx, 'headroom');
      const omaAppliance = oma === undefined ? undefined : (await ctx.invoke('appliances:list', {})).find((a) => a.id === oma || a.name === oma);
      if (oma !== undefined && !omaAppliance) throw new AppError('not_found', `No appliance with id or name ${oma}; see \`mkc appliances list\``);
      return ctx.invoke('cloudstack:save-config', {
        apiUrl: reqStr(ctx, 'url'),
        ...(apiKey ? { apiKey, secretKey } : {}),
        ...(str(ctx, 'zone') ? { zoneId: str(ctx, 'zone') } : {}),
        ...(str(ctx, 'disk-offering') ? { diskOfferingId: str(ctx, 'disk-offering') } : {}),
        ...(str(ctx, 'service-offering') ? { serviceOfferingId: str(ctx, 'service-offering') } : {}),
        ...(str(ctx, 'template') ? { templateId: str(ctx, 'template') } : {}),
        ...(str(ctx, 'network') ? { defaultNetworkId: str(ctx, 'network') } : {}),
        ...(omaAppliance ? { omaApplianceId: omaAppliance.id } : {}),
        ...(str(ctx, 'oma-vm-id') ? { omaVmId: str(ctx, 'oma-vm-id') } : {}),
        ...(headroom !== undefined ? { volumeHeadroomPercent: headroom } : {}),
      });
    },
    human: (v) => `Saved. ${JSON.stringify(v)}`,
  },
  {
    path: ['cloudstack', 'show'],
    summary: 'Show the CloudStack configuration (keys are never shown)',
    run: (ctx) => ctx.invoke('cloudstack:get-config', {}),
    human: (v) => table(['SETTING', 'VALUE'], Object.entries(v as CloudStackConfigView).map(([k, x]) => [k, x === null ? '-' : String(x)])),
  },
  {
    path: ['cloudstack', 'test'],
    summary: 'Test the CloudStack connection and report exactly what is wrong',
    run: async (ctx) => {
      const r = await ctx.invoke('cloudstack:test', {});
      if (!r.ok) throw new AppError('remote_error', r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`).join('; '), { result: r });
      return r;
    },
    human: (v) => (v as ConnectionTestResult).checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}`).join('\n'),
  },
];

