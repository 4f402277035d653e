import { invokeRequestSchemas, type InvokeChannel, type InvokeRequest } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { FAILOVER_WORKING_STATUSES, type Failover, type FailoverValidation } from '../../shared/failover';
import type { CliCommand, CommandContext, OptionSpec } from './command';
import { resolveContext } from './commands-jobs';
import { flag, num, onePositional, reqStr, str } from './options';
import { table } from './table';

// mkc failover validate|test|rollback|cleanup|list|show and mkc networks map: every input goes
// through the same zod schemas as the IPC channels.

function parse<C extends InvokeChannel>(channel: C, value: unknown): InvokeRequest<C> {
  const r = invokeRequestSchemas[channel].safeParse(value);
  if (r.success) return r.data;
  throw new AppError('validation', r.error.issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; '));
}

const list = (v: string | undefined) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

const describe = (f: Failover) =>
  [
    `${f.id}  ${f.kind} failover of ${f.vmName}: ${f.status}${f.phase ? ` (${f.phase})` : ''}`,
    f.kind === 'live'
      ? `options: power-off ${f.options.powerOffTimeoutSeconds !== undefined ? `forced after ${f.options.powerOffTimeoutSeconds} s` : 'forced after the default wait'}; ${f.options.finalSync === false ? 'no final sync' : 'final sync'}; on failure the source is ${f.options.sourceOnFailure === 'keep_off' ? 'left off' : 'powered back on'}${f.options.rollbackPowerOn === false ? '; rollback left the source off' : ''}`
      : null,
    f.override ? `override by ${f.override.by} at ${f.override.at}: ${f.override.findings.join(', ')}` : null,
    f.evidence ? `evidence: ${f.evidence.state}; IPs ${f.evidence.ips.join(', ') || 'none'}` : null,
    ...(f.evidence?.portChecks ?? []).map((p) => `  ${p.ip}:${p.port} ${p.open ? 'open' : 'closed'} (${p.detail})`),
    f.evidence?.portChecksSkipped ? `  port checks skipped: ${f.evidence.portChecksSkipped}` : null,
    ...(f.evidence?.nics ?? []).map((n, i) => `  nic ${i + 1}: ${n.sourceNetwork} ${n.sourceMac} -> ${n.networkId} ${n.mac ?? '?'} ${n.ip ?? ''}`.trimEnd()),
    ...f.findings.filter((x) => x.code === 'final_sync_skipped' || x.code === 'mac_not_kept').map((x) => `warning: ${x.message}`),
    f.error ? `error: ${f.error}` : null,
  ]
    .filter(Boolean)
    .join('\n');

/** One cell of `failover list`: what CloudStack reported, the IPs and how many checked ports answered. */
const evidenceCell = (f: Failover) => {
  const e = f.evidence;
  if (!e) return null;
  const open = e.portChecks.filter((p) => p.open).length;
  return `${e.state}; ${e.ips.join(' ') || 'no IP'}${e.portChecks.length ? `; ports ${open}/${e.portChecks.length} open` : ''}`;
};

const describeValidation = (v: FailoverValidation) =>
  v.findings.length === 0
    ? `No findings: ready for a ${v.kind} failover.`
    : `${v.blocked ? 'Blocked' : 'Not blocked'}:\n${v.findings.map((f) => `  ${f.severity.padEnd(7)} ${f.subject ? `${f.code}:${f.subject}` : f.code}  ${f.message}`).join('\n')}`;

/** How often a followed failover is read again. */
const FAILOVER_RECHECK_MS = 2000;

async function getFailover(ctx: CommandContext, contextId: string, id: string): Promise<Failover> {
  const f = (await ctx.invoke('failover:list', { contextId, limit: 100 })).find((x) => x.id === id);
  if (!f) throw new AppError('not_found', `No failover ${id}`);
  return f;
}

/**
 * Follows a failover run by whoever owns the data directory (this process when it does) to its one
 * terminal state; Ctrl-C leaves it running there (or, in-process, for the next owner to compensate).
 */
async function follow(ctx: CommandContext, f: Failover): Promise<Failover> {
  let interrupted = false;
  void ctx.interrupted.then(() => (interrupted = true));
  for (;;) {
    const now = await getFailover(ctx, f.vmContextId, f.id);
    if (!FAILOVER_WORKING_STATUSES.includes(now.status)) {
      if (now.status === 'failed' || now.status === 'cleanup_required') {
        throw new AppError('remote_error', `Failover ${f.id} ${now.status}: ${now.error ?? 'no reason recorded'}`, { failover: now });
      }
      return now;
    }
    if (interrupted) {
      ctx.err(`Stopped following ${f.id}; it goes on where the console runs, or is compensated the next time one starts.`);
      return now;
    }
    await Promise.race([new Promise((r) => setTimeout(r, FAILOVER_RECHECK_MS)), ctx.interrupted]);
  }
}

async function resolveFailover(ctx: CommandContext, idOrVm: string): Promise<Failover> {
  if (idOrVm.startsWith('failover-')) {
    const f = (await ctx.invoke('failover:list', { limit: 1000 })).find((x) => x.id === idOrVm);
    if (!f) throw new AppError('not_found', `No failover ${idOrVm}`);
    return f;
  }
  const [latest] = await ctx.invoke('failover:list', { contextId: (await resolveContext(ctx, idOrVm)).id, limit: 1 });
  if (!latest) throw new AppError('not_found', `${idOrVm} has no failover`);
  return latest;
}

/** Options `failover test` and `failover live` share. */
const START_OPTIONS: readonly OptionSpec[] = [
  { name: 'ports', type: 'string', description: 'TCP ports to check from the OMA appliance, comma separated' },
  { name: 'override-by', type: 'string', description: 'your name, recorded with the override' },
  { name: 'accept', type: 'string', description: 'error findings to override (code or code:subject, comma separated)' },
  { name: 'keep-macs', type: 'boolean', description: "ask for the source NICs' MAC addresses (a warning says where CloudStack cannot keep them)" },
];

/** `failover test|live`: the options both share, the one start channel, then follow it to its end. */
async function startFailover(ctx: CommandContext, kind: 'test' | 'live', extra: Record<string, unknown>): Promise<Failover> {
  const c = await resolveContext(ctx, onePositional(ctx));
  const accept = list(str(ctx, 'accept'));
  const ports = list(str(ctx, 'ports'))?.map(Number);
  const req = parse('failover:start', {
    contextId: c.id,
    kind,
    ...extra,
    ...(flag(ctx, 'keep-macs') ? { keepMacAddresses: true } : {}),
    ...(ports ? { ports } : {}),
    ...(accept ? { override: { by: reqStr(ctx, 'override-by'), findings: accept } } : {}),
  });
  await (await ctx.session()).runBackground();
  if (req.finalSync === false) ctx.err(`Warning: no final sync — ${c.name} fails over as of its last completed sync; writes since then are lost.`);
  const f = await ctx.invoke('failover:start', req);
  if (!ctx.json) ctx.out(kind === 'test' ? `Started ${f.id}: test failover of ${c.name} as ${f.vmName}` : `Started ${f.id}: live failover of ${c.name}`);
  return follow(ctx, f);
}

export const failoverCommands: CliCommand[] = [
  {
    path: ['failover', 'validate'],
    args: [{ name: 'vm', description: 'VM name or context id' }],
    summary: 'Run the failover validation and print its findings',
    options: [{ name: 'kind', type: 'string', choices: ['test', 'live'], description: 'failover kind (default test)' }],
    run: async (ctx) => {
      const c = await resolveContext(ctx, onePositional(ctx));
      return ctx.invoke('failover:validate', parse('failover:validate', { contextId: c.id, kind: str(ctx, 'kind') ?? 'test' }));
    },
    human: (v) => describeValidation(v as FailoverValidation),
  },
  {
    path: ['failover', 'test'],
    args: [{ name: 'vm', description: 'VM name or context id' }],
    summary: 'Test failover: snapshot, create the CloudStack VM from the replicas on the test networks, start it, record boot evidence',
    options: [
      { name: 'name', type: 'string', description: 'CloudStack VM name (default <vm>-test-<timestamp>)' },
      ...START_OPTIONS,
    ],
    run: (ctx) => startFailover(ctx, 'test', str(ctx, 'name') ? { vmName: str(ctx, 'name') } : {}),
    human: (v) => describe(v as Failover),
  },
  {
    path: ['failover', 'live'],
    args: [{ name: 'vm', description: 'VM name or context id' }],
    summary: 'Live failover: power off the source, final incremental sync, then create and start the CloudStack VM on the live networks',
    options: [
      { name: 'confirm', type: 'string', description: "the VM's name, typed again (the source is powered off)" },
      { name: 'power-off-timeout', type: 'number', description: 'seconds a graceful shutdown may take before the power-off is forced (10-3600)' },
      { name: 'skip-final-sync', type: 'boolean', description: 'no final sync: fail over as of the last completed sync (writes since then are lost)' },
      { name: 'leave-source-off', type: 'boolean', description: 'if the failover fails, leave the source powered off (default: power it back on)' },
      ...START_OPTIONS,
    ],
    run: (ctx) =>
      startFailover(ctx, 'live', {
        confirmName: str(ctx, 'confirm'),
        ...(num(ctx, 'power-off-timeout') !== undefined ? { powerOffTimeoutSeconds: num(ctx, 'power-off-timeout') } : {}),
        ...(flag(ctx, 'skip-final-sync') ? { finalSync: false } : {}),
        ...(flag(ctx, 'leave-source-off') ? { sourceOnFailure: 'keep_off' } : {}),
      }),
    human: (v) => describe(v as Failover),
  },
  ...(['rollback', 'cleanup'] as const).map(
    (verb): CliCommand => ({
      path: ['failover', verb],
      args: [{ name: 'failover', description: 'failover id, or VM name / context id for its latest failover' }],
      summary:
        verb === 'rollback'
          ? 'Roll back a failover: remove the CloudStack VM, revert (test), reattach and republish the volumes; live: power the source back on'
          : 'Clean up a failover left in cleanup_required',
      options: [{ name: 'leave-source-off', type: 'boolean', description: 'live failover: do not power the source back on' }],
      run: async (ctx) => {
        const f = await resolveFailover(ctx, onePositional(ctx));
        if (verb === 'cleanup' && f.status !== 'cleanup_required') throw new AppError('conflict', `Failover ${f.id} is ${f.status}, not cleanup_required`);
        if (flag(ctx, 'leave-source-off') && f.kind !== 'live') throw new AppError('validation', `--leave-source-off applies to a live failover; ${f.id} is a ${f.kind} failover`);
        await (await ctx.session()).runBackground();
        const req = parse('failover:rollback', { failoverId: f.id, ...(flag(ctx, 'leave-source-off') ? { powerOnSource: false } : {}) });
        return follow(ctx, await ctx.invoke('failover:rollback', req));
      },
      human: (v) => describe(v as Failover),
    }),
  ),
  {
    path: ['failover', 'list'],
    summary: 'List failovers',
    options: [{ name: 'vm', type: 'string', description: 'only this VM (name or context id)' }],
    run: async (ctx) => {
      const vm = str(ctx, 'vm');
      return ctx.invoke('failover:list', parse('failover:list', vm ? { contextId: (await resolveContext(ctx, vm)).id } : {}));
    },
    human: (v) =>
      (v as Failover[]).length === 0
        ? 'No failovers.'
        : table(
            ['FAILOVER', 'KIND', 'VM', 'STATUS', 'PHASE', 'STARTED', 'ENDED', 'EVIDENCE', 'OVERRIDE', 'ERROR'],
            (v as Failover[]).map((f) => [f.id, f.kind, f.vmName, f.status, f.phase, f.startedAt, f.endedAt, evidenceCell(f), f.override ? `by ${f.override.by} (${f.override.findings.length})` : null, f.error]),
          ),
  },
  {
    path: ['failover', 'show'],
    args: [{ name: 'failover', description: 'failover id, or VM name / context id for its latest failover' }],
    summary: 'Show one failover with its findings, override and boot evidence',
    run: (ctx) => resolveFailover(ctx, onePositional(ctx)),
    human: (v) => describe(v as Failover),
  },
  {
    path: ['failover', 'boot-disk'],
    args: [{ name: 'vm', description: 'VM name or context id' }, { name: 'disk-key', description: 'VMware disk key, e.g. disk-2001' }],
    argsWanted: 'the VM and the disk key (e.g. disk-2001)',
    summary: 'Choose the disk the CloudStack VM boots from (when discovery cannot tell)',
    run: async (ctx) => {
      const req = parse('failover:boot-disk', { contextId: (await resolveContext(ctx, ctx.positionals[0]!)).id, diskKey: ctx.positionals[1] });
      const view = await ctx.invoke('failover:boot-disk', req);
      return { contextId: req.contextId, bootDisk: view.bootDisk };
    },
    human: (v) => `Boot disk: ${(v as { bootDisk: string }).bootDisk}`,
  },
  {
    path: ['networks', 'map'],
    summary: 'Map a source network to CloudStack networks for live and/or test failover, for one VM or (without --vm) every VM on it',
    options: [
      { name: 'source', type: 'string', description: 'source network name as discovered' },
      { name: 'vm', type: 'string', description: 'only this VM (name or context id)' },
      { name: 'live', type: 'string', description: 'CloudStack network id for live failover ("none" clears)' },
      { name: 'test', type: 'string', description: 'CloudStack network id for test failover ("none" clears)' },
    ],
    run: async (ctx) => {
      const vm = str(ctx, 'vm');
      const target = (name: string) => (str(ctx, name) === undefined ? {} : { [`${name}NetworkId`]: str(ctx, name) === 'none' ? null : str(ctx, name) });
      const req = parse('failover:map-network', {
        ...(vm ? { contextId: (await resolveContext(ctx, vm)).id } : {}),
        sourceNetwork: reqStr(ctx, 'source'),
        ...target('live'),
        ...target('test'),
      });
      return ctx.invoke('failover:map-network', req);
    },
    human: (v) => `Mapped on ${(v as { contextIds: string[] }).contextIds.length} VM(s).`,
  },
];
