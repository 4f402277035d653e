import fs from 'node:fs';
import { applianceInputSchema, credentialInputSchema } from '../../shared/contract';
import type { DiscoveryResult } from '../../shared/discovery';
import type { Appliance, TunnelState, VcenterCredential } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext } from './command';
import { callbackForwardText } from '../../shared/callback-forward-text';
import { flag, int, onePositional, reqStr, secretFromStdin, str } from './options';
import { formatBytes, table } from './table';

function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError('validation', r.error.issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; '));
}

const describeState = (s: TunnelState) =>
  s.state === 'backoff'
    ? `backoff (attempt ${s.attempt}, next at ${s.nextAttemptAt}): ${s.reason ?? ''}`
    : s.state === 'failed'
      ? `failed: ${s.reason ?? ''}${s.offeredFingerprint ? `\nThe appliance offered host key ${s.offeredFingerprint}. If that is the key you expect, run again with --trust-host-key ${s.offeredFingerprint}` : ''}`
      : `${s.state}${s.callbackForward ? `; ${callbackForwardText(s.callbackForward)}` : ''}`;

async function connectAndReport(ctx: CommandContext, id: string): Promise<TunnelState> {
  const core = ctx.core();
  const trust = str(ctx, 'trust-host-key');
  if (trust) await core.appliances.trustHostKey(id, trust);
  return core.appliances.connect(id, int(ctx, 'wait-seconds') !== undefined ? int(ctx, 'wait-seconds')! * 1000 : 20_000);
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
      const input = parseOrThrow(applianceInputSchema, {
        kind: reqStr(ctx, 'kind'),
        name: reqStr(ctx, 'name'),
        host: reqStr(ctx, 'host'),
        ...(int(ctx, 'port') !== undefined ? { port: int(ctx, 'port') } : {}),
        username: reqStr(ctx, 'username'),
        authMethod: keyFile ? 'private_key' : 'password',
        ...(flag(ctx, 'password-stdin') ? { password: await secretFromStdin(ctx, 'password') } : {}),
        ...(keyFile ? { privateKey: fs.readFileSync(keyFile, 'utf8') } : {}),
        ...(flag(ctx, 'passphrase-stdin') ? { passphrase: await secretFromStdin(ctx, 'passphrase') } : {}),
        ...(int(ctx, 'api-port') !== undefined ? { apiPort: int(ctx, 'api-port') } : {}),
        ...(int(ctx, 'callback-port') !== undefined ? { callbackPort: int(ctx, 'callback-port') } : {}),
        ...(str(ctx, 'nbd-host') ? { nbdHost: str(ctx, 'nbd-host') } : {}),
        ...(int(ctx, 'nbd-port') !== undefined ? { nbdPort: int(ctx, 'nbd-port') } : {}),
        ...(str(ctx, 'cloudstack-vm-id') ? { cloudstackVmId: str(ctx, 'cloudstack-vm-id') } : {}),
      });
      const core = ctx.core();
      const a = core.appliances.add(input);
      const settingsFile = str(ctx, 'oma-settings');
      if (settingsFile) core.appliances.setSettings(a.id, { oma: JSON.parse(fs.readFileSync(settingsFile, 'utf8')) });
      return a;
    },
    human: (v) => {
      const a = v as Appliance;
      return `Added ${a.kind.toUpperCase()} appliance ${a.name} (${a.id}). Connect with \`mkc appliances connect ${a.name}\` to see and trust its host key.`;
    },
  },
  {
    path: ['appliances', 'list'],
    summary: 'List appliances with their pinned host keys and reported identity',
    run: (ctx) => {
      const core = ctx.core();
      const tunnels = new Map(core.appliances.tunnelStates().map((t) => [t.applianceId, t]));
      return core.appliances.list().map((a) => ({ ...a, tunnel: tunnels.get(a.id) ?? null }));
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
              a.tunnel?.state ?? 'not connected in this process',
              a.kind === 'vma' ? (callbackForwardText(a.tunnel?.callbackForward) ?? `127.0.0.1:${a.callbackPort} not requested`) : '-',
              a.reportedIdentity ? JSON.stringify(a.reportedIdentity).slice(0, 60) : '-',
            ]),
          ),
  },
  {
    path: ['appliances', 'connect'],
    usage: '<appliance>',
    summary: 'Connect to an appliance once and report the tunnel state (shows an untrusted host key)',
    options: [
      { name: 'trust-host-key', type: 'string', description: 'trust this SHA256:... fingerprint first (must be the one offered)' },
      { name: 'wait-seconds', type: 'number', description: 'how long to wait for the connection (default 20)' },
    ],
    run: async (ctx) => {
      const s = await connectAndReport(ctx, onePositional(ctx, 'appliance name or id'));
      if (s.state !== 'ready') throw new AppError(s.offeredFingerprint ? 'host_key_untrusted' : 'unreachable', describeState(s), { state: s });
      return s;
    },
    human: (v) => `Connected: ${describeState(v as TunnelState)}`,
  },
  {
    path: ['appliances', 'trust'],
    usage: '<appliance>',
    summary: 'Pin an appliance host key (--trust-host-key SHA256:...); --forget first to re-trust a changed key',
    options: [
      { name: 'trust-host-key', type: 'string', description: 'the SHA256:... fingerprint to pin' },
      { name: 'forget', type: 'boolean', description: 'forget the pinned key (explicit re-trust of a changed key)' },
    ],
    run: async (ctx) => {
      const id = onePositional(ctx, 'appliance name or id');
      const core = ctx.core();
      let a: Appliance | undefined;
      if (flag(ctx, 'forget')) a = await core.appliances.forgetHostKey(id);
      const fp = str(ctx, 'trust-host-key');
      if (fp) a = await core.appliances.trustHostKey(id, fp);
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
    usage: '<appliance>',
    summary: 'Remove an appliance and its stored SSH secret',
    run: async (ctx) => {
      await ctx.core().appliances.remove(onePositional(ctx, 'appliance name or id'));
      return { removed: true };
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
      const input = parseOrThrow(credentialInputSchema, {
        name: reqStr(ctx, 'name'),
        vcenterHost: reqStr(ctx, 'vcenter'),
        username: reqStr(ctx, 'username'),
        datacenter: reqStr(ctx, 'datacenter'),
        password: await secretFromStdin(ctx, 'password'),
      });
      return ctx.core().credentials.add(input);
    },
    human: (v) => `Added credentials ${(v as VcenterCredential).name} (${(v as VcenterCredential).id}).`,
  },
  {
    path: ['credentials', 'list'],
    summary: 'List vCenter credentials (passwords are never shown)',
    run: (ctx) => ctx.core().credentials.list(),
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
    run: (ctx) => ctx.core().discovery.run(reqStr(ctx, 'appliance'), reqStr(ctx, 'credential'), str(ctx, 'filter')),
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
    usage: '<vm name>...',
    summary: 'Put VMs under management by exact name (discovers them first)',
    options: [
      { name: 'appliance', type: 'string', required: true, description: 'VMA name or id' },
      { name: 'credential', type: 'string', required: true, description: 'vCenter credential name or id' },
    ],
    run: async (ctx) => {
      if (ctx.positionals.length === 0) throw new AppError('validation', 'Name at least one VM');
      const core = ctx.core();
      const d = await core.discovery.run(reqStr(ctx, 'appliance'), reqStr(ctx, 'credential'), ctx.positionals.join(','));
      const wanted = new Set(ctx.positionals);
      const ids = d.vms.filter((vm) => wanted.has(vm.name)).map((vm) => vm.vmwareVmId);
      const missing = ctx.positionals.filter((n) => !d.vms.some((vm) => vm.name === n));
      const result = ids.length ? core.discovery.addFromDiscovery(d.discoveryId, ids) : { added: [], conflicts: [] };
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
