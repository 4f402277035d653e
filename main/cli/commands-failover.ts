import { invokeRequestSchemas, type InvokeChannel, type InvokeRequest } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { Failover, FailoverValidation } from '../../shared/failover';
import type { Core } from '../core/core';
import type { CliCommand, CommandContext } from './command';
import { resolveContext } from './commands-jobs';
import { onePositional, reqStr, str } from './options';
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
    f.override ? `override by ${f.override.by} at ${f.override.at}: ${f.override.findings.join(', ')}` : null,
    f.evidence ? `evidence: ${f.evidence.state}; IPs ${f.evidence.ips.join(', ') || 'none'}` : null,
    ...(f.evidence?.portChecks ?? []).map((p) => `  ${p.ip}:${p.port} ${p.open ? 'open' : 'closed'} (${p.detail})`),
    f.error ? `error: ${f.error}` : null,
  ]
    .filter(Boolean)
    .join('\n');

const describeValidation = (v: FailoverValidation) =>
  v.findings.length === 0
    ? `No findings: ready for a ${v.kind} failover.`
    : `${v.blocked ? 'Blocked' : 'Not blocked'}:\n${v.findings.map((f) => `  ${f.severity.padEnd(7)} ${f.subject ? `${f.code}:${f.subject}` : f.code}  ${f.message}`).join('\n')}`;

/** Failovers run in this process: wait for the one terminal state (Ctrl-C leaves it for the next owner to compensate). */
async function follow(ctx: CommandContext, core: Core, id: string): Promise<Failover> {
  const settled = await Promise.race([core.failover.whenSettled(id), ctx.interrupted.then(() => null)]);
  if (!settled) {
    ctx.err(`Interrupted; ${id} is compensated the next time the console or mkc starts.`);
    return core.failover.get(id);
  }
  if (settled.status === 'failed' || settled.status === 'cleanup_required') {
    throw new AppError('remote_error', `Failover ${id} ${settled.status}: ${settled.error ?? 'no reason recorded'}`, { failover: settled });
  }
  return settled;
}

function resolveFailover(core: Core, idOrVm: string): Failover {
  if (idOrVm.startsWith('failover-')) return core.failover.get(idOrVm);
  const [latest] = core.failover.list({ contextId: resolveContext(core, idOrVm).id, limit: 1 });
  if (!latest) throw new AppError('not_found', `${idOrVm} has no failover`);
  return latest;
}

export const failoverCommands: CliCommand[] = [
  {
    path: ['failover', 'validate'],
    usage: '<vm name or context id>',
    summary: 'Run the failover validation and print its findings',
    options: [{ name: 'kind', type: 'string', choices: ['test', 'live'], description: 'failover kind (default test)' }],
    run: (ctx) => {
      const core = ctx.core();
      const c = resolveContext(core, onePositional(ctx, 'VM name or context id'));
      const req = parse('failover:validate', { contextId: c.id, kind: str(ctx, 'kind') ?? 'test' });
      return core.failover.validate(req.contextId, req.kind);
    },
    human: (v) => describeValidation(v as FailoverValidation),
  },
  {
    path: ['failover', 'test'],
    usage: '<vm name or context id>',
    summary: 'Test failover: snapshot, create the CloudStack VM from the replicas on the test networks, start it, record boot evidence',
    options: [
      { name: 'name', type: 'string', description: 'CloudStack VM name (default <vm>-test-<timestamp>)' },
      { name: 'ports', type: 'string', description: 'TCP ports to check from the OMA appliance, comma separated' },
      { name: 'override-by', type: 'string', description: 'your name, recorded with the override' },
      { name: 'accept', type: 'string', description: 'error findings to override (code or code:subject, comma separated)' },
    ],
    run: async (ctx) => {
      const core = ctx.core();
      const c = resolveContext(core, onePositional(ctx, 'VM name or context id'));
      const accept = list(str(ctx, 'accept'));
      const ports = list(str(ctx, 'ports'))?.map(Number);
      const req = parse('failover:start', {
        contextId: c.id,
        kind: 'test',
        ...(str(ctx, 'name') ? { vmName: str(ctx, 'name') } : {}),
        ...(ports ? { ports } : {}),
        ...(accept ? { override: { by: reqStr(ctx, 'override-by'), findings: accept } } : {}),
      });
      const { contextId, ...input } = req;
      const f = await core.failover.start(contextId, input);
      if (!ctx.json) ctx.out(`Started ${f.id}: test failover of ${c.name} as ${f.vmName}`);
      return follow(ctx, core, f.id);
    },
    human: (v) => describe(v as Failover),
  },
  {
    path: ['failover', 'live'],
    usage: '<vm name or context id>',
    summary: 'Live failover: power off the source, final incremental sync, then create and start the CloudStack VM on the live networks',
    options: [
      { name: 'confirm', type: 'string', description: "the VM's name, typed again (the source is powered off)" },
      { name: 'ports', type: 'string', description: 'TCP ports to check from the OMA appliance, comma separated' },
      { name: 'override-by', type: 'string', description: 'your name, recorded with the override' },
      { name: 'accept', type: 'string', description: 'error findings to override (code or code:subject, comma separated)' },
    ],
    run: async (ctx) => {
      const core = ctx.core();
      const c = resolveContext(core, onePositional(ctx, 'VM name or context id'));
      const accept = list(str(ctx, 'accept'));
      const ports = list(str(ctx, 'ports'))?.map(Number);
      const req = parse('failover:start', {
        contextId: c.id,
        kind: 'live',
        confirmName: str(ctx, 'confirm'),
        ...(ports ? { ports } : {}),
        ...(accept ? { override: { by: reqStr(ctx, 'override-by'), findings: accept } } : {}),
      });
      const { contextId, ...input } = req;
      await core.startBackground();
      const f = await core.failover.start(contextId, input);
      if (!ctx.json) ctx.out(`Started ${f.id}: live failover of ${c.name}`);
      return follow(ctx, core, f.id);
    },
    human: (v) => describe(v as Failover),
  },
  ...(['rollback', 'cleanup'] as const).map(
    (verb): CliCommand => ({
      path: ['failover', verb],
      usage: '<failover id, or vm name / context id for its latest failover>',
      summary: verb === 'rollback' ? 'Roll back a test failover: remove the VM, revert, reattach and republish the volumes' : 'Clean up a failover left in cleanup_required',
      run: async (ctx) => {
        const core = ctx.core();
        const f = resolveFailover(core, onePositional(ctx, 'failover id or VM'));
        if (verb === 'cleanup' && f.status !== 'cleanup_required') throw new AppError('conflict', `Failover ${f.id} is ${f.status}, not cleanup_required`);
        parse('failover:rollback', { failoverId: f.id });
        await core.failover.rollback(f.id);
        return follow(ctx, core, f.id);
      },
      human: (v) => describe(v as Failover),
    }),
  ),
  {
    path: ['failover', 'list'],
    summary: 'List failovers',
    options: [{ name: 'vm', type: 'string', description: 'only this VM (name or context id)' }],
    run: (ctx) => {
      const core = ctx.core();
      const vm = str(ctx, 'vm');
      return core.failover.list(parse('failover:list', vm ? { contextId: resolveContext(core, vm).id } : {}));
    },
    human: (v) =>
      (v as Failover[]).length === 0
        ? 'No failovers.'
        : table(['FAILOVER', 'KIND', 'VM', 'STATUS', 'PHASE', 'STARTED', 'ENDED', 'ERROR'], (v as Failover[]).map((f) => [f.id, f.kind, f.vmName, f.status, f.phase, f.startedAt, f.endedAt, f.error])),
  },
  {
    path: ['failover', 'show'],
    usage: '<failover id, or vm name / context id>',
    summary: 'Show one failover with its findings, override and boot evidence',
    run: (ctx) => resolveFailover(ctx.core(), onePositional(ctx, 'failover id or VM')),
    human: (v) => describe(v as Failover),
  },
  {
    path: ['failover', 'boot-disk'],
    usage: '<vm name or context id> <disk key>',
    summary: 'Choose the disk the CloudStack VM boots from (when discovery cannot tell)',
    run: (ctx) => {
      const core = ctx.core();
      if (ctx.positionals.length !== 2) throw new AppError('validation', 'Give the VM and the disk key (e.g. disk-2001)');
      const req = parse('failover:boot-disk', { contextId: resolveContext(core, ctx.positionals[0]!).id, diskKey: ctx.positionals[1] });
      core.networkMappings.setBootDisk(req.contextId, req.diskKey);
      return { contextId: req.contextId, bootDisk: core.networkMappings.bootDisk(req.contextId) };
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
    run: (ctx) => {
      const core = ctx.core();
      const vm = str(ctx, 'vm');
      const target = (name: string) => (str(ctx, name) === undefined ? {} : { [`${name}NetworkId`]: str(ctx, name) === 'none' ? null : str(ctx, name) });
      const req = parse('failover:map-network', {
        ...(vm ? { contextId: resolveContext(core, vm).id } : {}),
        sourceNetwork: reqStr(ctx, 'source'),
        ...target('live'),
        ...target('test'),
      });
      const targets = { liveNetworkId: req.liveNetworkId, testNetworkId: req.testNetworkId };
      if (!req.contextId) return { contextIds: core.networkMappings.setByName(req.sourceNetwork, targets) };
      core.networkMappings.set(req.contextId, req.sourceNetwork, targets);
      return { contextIds: [req.contextId] };
    },
    human: (v) => `Mapped on ${(v as { contextIds: string[] }).contextIds.length} VM(s).`,
  },
];
