// `mkc contexts enable|disable|remove`: the VM table's management actions through the same channels
// and schemas (contexts:set-enabled, contexts:removal-plan, contexts:remove). Remove shows the same
// plan as the table's Remove dialog (renderer/src/screens/vm-list/RemoveDialog.tsx) and, like that
// dialog, acts only once the operator has said what happens to the replica volumes.
import { REMOVAL_VOLUME_FATES, type RemovalPlan, type RemovalVolumeFate, type RemoveContextResult } from '../../shared/contract';
import type { VmContextSummary } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext } from './command';
import { resolveContext } from './commands-jobs';
import { onePositional, str } from './options';
import { formatBytes } from './table';

const setEnabled = async (ctx: CommandContext, enabled: boolean) =>
  ctx.invoke('contexts:set-enabled', { id: (await resolveContext(ctx, onePositional(ctx))).id, enabled });

const enabledLine = (v: unknown) => {
  const c = v as VmContextSummary;
  return c.enabled
    ? `${c.name} (${c.id}) is enabled: schedules sync it and it can be replicated.`
    : `${c.name} (${c.id}) is disabled: schedules skip it and manual syncs are refused; its replica stays as it is.`;
};

/** The dialog's wording: per fate, what happens to this VM's volumes or why the core will refuse. */
export function planText(p: RemovalPlan): string {
  const size = formatBytes(p.volumes.reduce((s, v) => s + v.sizeBytes, 0));
  const lines = [`Removing ${p.name} (${p.contextId}) from management: jobs, change ids and group memberships go; the log keeps what happened; the VM in vCenter is not touched. Added again later, it starts with a full sync.`];
  lines.push(p.volumes.length === 0 ? 'Replica volumes in CloudStack: none.' : `Replica volumes in CloudStack: ${p.volumes.length} (${size}): ${p.volumes.map((v) => `${v.name}${v.attached ? ' (attached)' : ''}`).join(', ')}`);
  const fate = (why: string | null, done: string) => (why ? `will be refused: ${why}` : p.volumes.length === 0 ? 'no replica volumes' : p.failedOverLive ? `${p.volumes.length} volume(s) stay with the failed-over CloudStack VM` : done);
  lines.push(`  --volumes keep:   ${fate(p.refusedKeeping, 'kept in CloudStack under their names, detached from the OMA')}`);
  lines.push(`  --volumes delete: ${fate(p.refusedDeleting, 'deleted in CloudStack (cannot be undone)')}`);
  return lines.join('\n');
}

export const contextCommands: CliCommand[] = [
  {
    path: ['contexts', 'disable'],
    args: [{ name: 'vm', description: 'VM (name or context id)' }],
    summary: 'Disable a VM for management: schedules skip it, manual syncs are refused, its replica stays',
    run: (ctx) => setEnabled(ctx, false),
    human: enabledLine,
  },
  {
    path: ['contexts', 'enable'],
    args: [{ name: 'vm', description: 'VM (name or context id)' }],
    summary: 'Enable a disabled VM again for schedules and manual syncs',
    run: (ctx) => setEnabled(ctx, true),
    human: enabledLine,
  },
  {
    path: ['contexts', 'remove'],
    args: [{ name: 'vm', description: 'VM (name or context id)' }],
    summary: 'Remove a VM from management; shows what happens to its replica volumes and acts only with --volumes',
    options: [{ name: 'volumes', type: 'string', choices: REMOVAL_VOLUME_FATES, description: 'keep the replica volumes in CloudStack, or delete them' }],
    run: async (ctx) => {
      const vm = await resolveContext(ctx, onePositional(ctx));
      const [plan] = await ctx.invoke('contexts:removal-plan', { ids: [vm.id] });
      const volumes = str(ctx, 'volumes') as RemovalVolumeFate | undefined;
      // The plan goes out first, as the dialog shows it before its Remove button does anything.
      if (!ctx.json) ctx.out(planText(plan!));
      if (volumes === undefined) throw new AppError('validation', 'Nothing removed: say what happens to the replica volumes with --volumes keep or --volumes delete');
      const result = await ctx.invoke('contexts:remove', { id: vm.id, volumes });
      return { plan, result };
    },
    human: (v) => {
      const { plan, result } = v as { plan: RemovalPlan; result: RemoveContextResult };
      const outcome = result.volumes.map((x) => `${x.name} ${x.outcome}`).join(', ');
      return `${plan.name} removed from management${outcome ? `; volumes: ${outcome}` : ''}.`;
    },
  },
];
