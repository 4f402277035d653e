import fs from 'node:fs';
import type { ApplianceInput, OmaSettingsInput } from '../../shared/contract';
import type { DiscoveryResult } from '../../shared/discovery';
import type { Appliance, TunnelState, VcenterCredential } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext } from './command';
import { nbdAccessText } from '../../shared/nbd-access-text';
import { callbackForwardText } from '../../shared/callback-forward-text';
import { flag, num, onePositional, reqStr, secretFromStdin, str } from './options';
import { formatBytes, table } from './table';

function readTextFile(option: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppError('validation', `--${option}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads the --oma-settings file; its content is judged by the contract schema, not here. */
function readJsonFile(option: string, file: string): unknown {
  const text = readTextFile(option, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('validation', `--${option}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

const describeState = (s: TunnelState) =>
  s.state === 'backoff'
    ? `backoff (attempt ${s.attempt}, next at ${s.nextAttemptAt}): ${s.reason ?? ''}`
    : s.state === 'failed'
      ? `failed: ${s.reason ?? ''}${s.offeredFingerprint ? `\nThe appliance offered host key ${s.offeredFingerprint}. If that is the key you expect, run again with --trust-host-key ${s.offeredFingerprint}` : ''}`
      : `${s.state}${s.callbackForward ? `; ${callbackForwardText(s.callbackForward)}` : ''}`;

async function connectAndReport(ctx: CommandContext, id: string): Promise<TunnelState> {
  const trust = str(ctx, 'trust-host-key');
  if (trust) await ctx.invoke('appliances:trust-host-key', { id, fingerprint: trust });
  const wait = num(ctx, 'wait-seconds');
  return ctx.invoke('appliances:connect', { id, ...(wait !== undefined ? { waitSeconds: wait } : {}) });
}

export const applianceCommands: CliCommand[] = [
  {
    path: ['appliances', 'add'],
    summary: 'Add a VMA or OMA appliance (SSH password or private key read from stdin / a key file)',
    options: [
      { name: 'kind', type: 'string', choices: ['vma', 'oma'], required: true, description: 'vma (VMware side) or oma (CloudStack side)' },
      { name: 'name', type: 'string', required: true, description: 'a name for it' },
      { name: 'host', type: 'string', required: true, description: 'SSH host' },
      { name: 'port', type: 'number', description: 'SSH port (default 22)' },
      { name: 'username', type: 'string', required: true, description: 'SSH user' },
      { name: 'password-stdin', type: 'boolean', description: 'read the SSH password from standard input' },
      { name: 'key-file', type: 'string', description: 'private key file (OpenSSH/PEM)' },
      { name: 'passphrase-stdin', type: 'boolean', description: 'read the key passphrase from standard input' },
      { name: 'api-port', type: 'number', description: 'VMA API port on the VMA (default 8081)' },
      { name: 'callback-port', type: 'number', description: 'port of the change-ID callback on the VMA (default 8082)' },
      { name: 'nbd-host', type: 'string', description: 'OMA: NBD server host as the VMA reaches it' },
      { name: 'nbd-port', type: 'number', description: 'OMA: NBD server port as the VMA reaches it' },
      { name: 'cloudstack-vm-id', type: 'string', description: 'OMA: the appliance VM id in CloudStack' },
      { name: 'oma-settings', type: 'string', description: 'OMA: JSON file with paths/commands (byIdDir, exportsDir, nbdPort, pidFile, ...)' },
    ],
    run: async (ctx) => {
      const keyFile = str(ctx, 'key-file');
      if (flag(ctx, 'password-stdin') && flag(ctx, 'passphrase-stdin')) throw new AppError('validation', 'Only one secret can come from standard input');
      const settingsFile = str(ctx, 'oma-settings');
      const input = {
        kind: reqStr(ctx, 'kind') as ApplianceInput['kind'],
        name: reqStr(ctx, 'name'),
        host: reqStr(ctx, 'host'),
        ...(num(ctx, 'port') !== undefined ? { port: num(ctx, 'port') } : {}),
        username: reqStr(ctx, 'username'),
        authMethod: keyFile ? ('private_key' as const) : ('password' as const),
        ...(flag(ctx, 'password-stdin') ? { password: await secretFromStdin(ctx, 'password') } : {}),
        ...(keyFile ? { privateKey: readTextFile('key-file', keyFile) } : {}),
        ...(flag(ctx, 'passphrase-stdin') ? { passphrase: await secretFromStdin(ctx, 'passphrase') } : {}),
        ...(num(ctx, 'api-port') !== undefined ? { apiPort: num(ctx, 'api-port') } : {}),
        ...(num(ctx, 'callback-port') !== undefined ? { callbackPort: num(ctx, 'callback-port') } : {}),
        ...(str(ctx, 'nbd-host') ? { nbdHost: str(ctx, 'nbd-host') } : {}),
        ...(num(ctx, 'nbd-port') !== undefined ? { nbdPort: num(ctx, 'nbd-port') } : {}),
        ...(str(ctx, 'cloudstack-vm-id') ? { cloudstackVmId: str(ctx, 'cloudstack-vm-id') } : {}),
        // Validated with the rest of the request, so a bad settings file leaves nothing stored.
        ...(settingsFile ? { omaSettings: readJsonFile('oma-settings', settingsFile) as OmaSettingsInput } : {}),
      };
      return ctx.invoke('appliances:add', input);
    },
    human: (v) => {
      const a = v as Appliance;
      return `Added ${a.kind.toUpperCase()} appliance ${a.name} (${a.id}). Connect with \`mkc appliances connect ${a.name}\` to see and trust its host key.`;
    },
  },
  {
    path: ['appliances', 'list'],
    summary: 'List appliances with their pinned host keys and reported identity',
    run: async (ctx) => {
      const tunnels = new Map((await ctx.invoke('appliances:tunnel-states', {})).map((t) => [t.applianceId, t]));
      return (await ctx.invoke('appliances:list', {})).map((a) => ({ ...a, tunnel: tunnels.get(a.id) ?? null }));
    },
    human: (v) =>
      (v as (Appliance & { tunnel: TunnelState | null })[]).length === 0
        ? 'No appliances yet. Add one with `mkc appliances add`.'
        : table(
            ['ID', 'KIND', 'NAME', 'SSH', 'HOST KEY', 'TUNNEL', 'CALLBACK FORWARD', 'IDENTITY'],
            (v as (Appliance & { tunnel: TunnelState | null })[]).map((a) => [
              a.id,
              a.kind,
              a.name,
              `${a.username}@${a.host}:${a.port}`,
              a.hostKeyFingerprint ?? 'not trusted yet',
              a.tunnel?.state ?? 'not connected',
              a.kind === 'vma' ? (callbackForwardText(a.tunnel?.callbackForward) ?? `127.0.0.1:${a.callbackPort} not requested`) : '-',
              a.reportedIdentity ? JSON.stringify(a.reportedIdentity).slice(0, 60) : '-',
            ]),
          ) +
          // Who can reach the replicas over NBD, per OMA appliance (nbdkit serves them read-write).
          (v as Appliance[])
            .filter((a) => a.kind === 'oma' && a.nbdAccess)
            .map((a) => `\n${a.name}: ${nbdAccessText(a.nbdAccess!)}`)
            .join(''),
  },
  {
    path: ['appliances', 'connect'],
    args: [{ name: 'appliance', description: 'appliance name or id' }],
    summary: 'Connect to an appliance once and report the tunnel state (shows an untrusted host key)',
    options: [
      { name: 'trust-host-key', type: 'string', description: 'trust this SHA256:... fingerprint first (must be the one offered)' },
      { name: 'wait-seconds', type: 'number', description: 'how long to wait for the connection (default 20)' },
    ],
    run: async (ctx) => {
      const s = await connectAndReport(ctx, onePositional(ctx));
      if (s.state !== 'ready') throw new AppError(s.offeredFingerprint ? 'host_key_untrusted' : 'unreachable', describeState(s), { state: s });
      return s;
    },
    human: (v) => `Connected: ${describeState(v as TunnelState)}`,
  },
  {
    path: ['appliances', 'trust'],
    args: [{ name: 'appliance', description: 'appliance name or id' }],
    summary: 'Pin an appliance host key (--trust-host-key SHA256:...); --forget first to re-trust a changed key',
    options: [
      { name: 'trust-host-key', type: 'string', description: 'the SHA256:... fingerprint to pin' },
      { name: 'forget', type: 'boolean', description: 'forget the pinned key (explicit re-trust of a changed key)' },
    ],
    run: async (ctx) => {
      const id = onePositional(ctx);
      let a: Appliance | undefined;
      if (flag(ctx, 'forget')) a = await ctx.invoke('appliances:forget-host-key', { id });
      const fp = str(ctx, 'trust-host-key');
      if (fp) a = await ctx.invoke('appliances:trust-host-key', { id, fingerprint: fp });
      if (!a) throw new AppError('validation', 'Give --trust-host-key SHA256:... and/or --forget');
      return a;
    },
    human: (v) => {
      const a = v as Appliance;
      return a.hostKeyFingerprint ? `${a.name} now trusts ${a.hostKeyFingerprint}` : `${a.name} trusts no host key; the next connection will show the offered one`;
    },
  },
  {
    path: ['appliances', 'remove'],
    args: [{ name: 'appliance', description: 'appliance name or id' }],
    summary: 'Remove an appliance and its stored SSH secret',
    run: async (ctx) => {
      return ctx.invoke('appliances:remove', { id: onePositional(ctx) });
    },
    human: () => 'Removed.',
  },
  {
    path: ['credentials', 'add'],
    summary: 'Add vCenter credentials (password read from standard input)',
    options: [
      { name: 'name', type: 'string', required: true, description: 'a name for these credentials' },
      { name: 'vcenter', type: 'string', required: true, description: 'vCenter host' },
      { name: 'username', type: 'string', required: true, description: 'vCenter user' },
      { name: 'datacenter', type: 'string', required: true, description: 'datacenter name' },
      { name: 'password-stdin', type: 'boolean', required: true, description: 'read the password from standard input' },
    ],
    run: async (ctx) => {
      return ctx.invoke('credentials:add', {
        name: reqStr(ctx, 'name'),
        vcenterHost: reqStr(ctx, 'vcenter'),
        username: reqStr(ctx, 'username'),
        datacenter: reqStr(ctx, 'datacenter'),
        password: await secretFromStdin(ctx, 'password'),
      });
    },
    human: (v) => `Added credentials ${(v as VcenterCredential).name} (${(v as VcenterCredential).id}).`,
  },
  {
    path: ['credentials', 'list'],
    summary: 'List vCenter credentials (passwords are never shown)',
    run: (ctx) => ctx.invoke('credentials:list', {}),
    human: (v) =>
      (v as VcenterCredential[]).length === 0
        ? 'No credentials yet. Add some with `mkc credentials add`.'
        : table(['ID', 'NAME', 'VCENTER', 'USER', 'DATACENTER'], (v as VcenterCredential[]).map((c) => [c.id, c.name, c.vcenterHost, c.username, c.datacenter])),
  },
  {
    path: ['discover'],
    summary: 'Discover VMs through a VMA (optionally filtered by name substrings)',
    options: [
      { name: 'appliance', type: 'string', required: true, description: 'VMA name or id' },
      { name: 'credential', type: 'string', required: true, description: 'vCenter credential name or id' },
      { name: 'filter', type: 'string', description: 'comma-separated name substrings (case-insensitive)' },
    ],
    run: (ctx) => {
      const filter = str(ctx, 'filter');
      return ctx.invoke('discovery:run', { applianceId: reqStr(ctx, 'appliance'), credentialId: reqStr(ctx, 'credential'), ...(filter !== undefined ? { filter } : {}) });
    },
    human: (v) => {
      const d = v as DiscoveryResult;
      if (d.vms.length === 0) return `No VMs matched in ${d.vcenterHost}.`;
      return `${d.vms.length} VM(s) in ${d.vcenterHost}/${d.datacenter} (${d.durationMs} ms):\n${table(
        ['NAME', 'PATH', 'POWER', 'CPU', 'MEMORY', 'OS', 'DISKS', 'NICS', 'MANAGED'],
        d.vms.map((vm) => [vm.name, vm.path, vm.powerState, vm.cpus, `${vm.memoryMb} MiB`, vm.osType, `${vm.disks.length} (${formatBytes(vm.disks.reduce((s, x) => s + x.capacityBytes, 0))})`, vm.networks.length, vm.managedContextId ?? 'no']),
      )}`;
    },
  },
  {
    path: ['contexts', 'add'],
    args: [{ name: 'vm-name', description: 'exact VM name as vCenter shows it', variadic: true }],
    argsWanted: 'at least one VM name',
    summary: 'Put VMs under management by exact name (discovers them first)',
    options: [
      { name: 'appliance', type: 'string', required: true, description: 'VMA name or id' },
      { name: 'credential', type: 'string', required: true, description: 'vCenter credential name or id' },
    ],
    run: async (ctx) => {
      const d = await ctx.invoke('discovery:run', { applianceId: reqStr(ctx, 'appliance'), credentialId: reqStr(ctx, 'credential'), filter: ctx.positionals.join(',') });
      const wanted = new Set(ctx.positionals);
      const ids = d.vms.filter((vm) => wanted.has(vm.name)).map((vm) => vm.vmwareVmId);
      const missing = ctx.positionals.filter((n) => !d.vms.some((vm) => vm.name === n));
      const result = ids.length ? await ctx.invoke('contexts:add', { discoveryId: d.discoveryId, vmwareVmIds: ids }) : { added: [], conflicts: [] };
      const out = { ...result, notFound: missing };
      if (result.added.length === 0) throw new AppError(missing.length ? 'not_found' : 'conflict', [...result.conflicts.map((c) => c.message), ...missing.map((m) => `${m} was not found in vCenter (names must match exactly)`)].join('; '), out);
      return out;
    },
    human: (v) => {
      const r = v as { added: { name: string; contextId: string }[]; conflicts: { message: string }[]; notFound: string[] };
      return [...r.added.map((a) => `Added ${a.name} (${a.contextId})`), ...r.conflicts.map((c) => `Not added: ${c.message}`), ...r.notFound.map((n) => `Not found: ${n}`)].join('\n');
    },
  },
];
