// `mkc groups ...`: machine groups and their members through the same channels and schemas as the
// Machine groups screen (groups:create/update, groups:add-members/update-member/remove-member).
import type { GroupUpdate, VmGroupView } from '../../shared/contract';
import type { VmGroup, VmGroupMember } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { CliCommand, CommandContext, OptionSpec } from './command';
import { resolveContext } from './commands-jobs';
import { resolveSchedule } from './commands-schedules';
import { num, onePositional, str, yesNo, YES_NO } from './options';
import { table } from './table';

async function resolveGroup(ctx: CommandContext, nameOrId: string): Promise<VmGroupView> {
  const views = await ctx.invoke('groups:list', {});
  const g = views.find((v) => v.group.id === nameOrId) ?? views.find((v) => v.group.name === nameOrId);
  if (!g) throw new AppError('not_found', `No machine group named ${nameOrId}; see \`mkc groups list\``);
  return g;
}

const GROUP_OPTIONS: OptionSpec[] = [
  { name: 'description', type: 'string', description: 'what the group is for' },
  { name: 'schedule', type: 'string', description: 'schedule name or id that syncs the group ("none": no schedule)' },
  { name: 'max-concurrent', type: 'number', description: 'at most this many VMs of the group sync at once' },
  { name: 'priority', type: 'number', description: 'groups with a lower number run first' },
  { name: 'age-target-hours', type: 'string', description: 'oldest acceptable last good sync, in hours ("none": no target)' },
  { name: 'enabled', type: 'string', choices: YES_NO, description: 'whether schedules sync the group' },
];

/** Hours as the screen takes them (a number, or empty for none); anything else reaches the schema as given and is refused there. */
function hoursToSeconds(v: string): number | null {
  if (v === 'none') return null;
  return Math.round(Number(v) * 3600);
}

async function groupFields(ctx: CommandContext): Promise<Omit<GroupUpdate, 'id'>> {
  const schedule = str(ctx, 'schedule');
  const hours = str(ctx, 'age-target-hours');
  const fields: Omit<GroupUpdate, 'id'> = {
    description: str(ctx, 'description'),
    scheduleId: schedule === undefined ? undefined : schedule === 'none' ? null : (await resolveSchedule(ctx, schedule)).id,
    maxConcurrentVms: num(ctx, 'max-concurrent'),
    priority: num(ctx, 'priority'),
    replicaAgeTargetSeconds: hours === undefined ? undefined : hoursToSeconds(hours),
    enabled: yesNo(ctx, 'enabled'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const groupLine = (g: VmGroup) =>
  `${g.name} (${g.id}): ${g.enabled ? 'enabled' : 'disabled'}, priority ${g.priority}, up to ${g.maxConcurrentVms} VM(s) at once, ` +
  `${g.scheduleId ? `schedule ${g.scheduleId}` : 'no schedule'}, ${g.replicaAgeTargetSeconds === null ? 'no age target' : `age target ${g.replicaAgeTargetSeconds / 3600} h`}`;

const membersTable = (members: VmGroupMember[]) =>
  members.length === 0
    ? 'No members yet. Add VMs with `mkc groups members add <group> <vm>...`.'
    : table(
        ['VM', 'CONTEXT', 'PRIORITY', 'ENABLED', 'ADDED'],
        members.map((m) => [m.vmName, m.vmContextId, m.priority, m.enabled ? 'yes' : 'no', m.addedAt]),
      );

/** The group (first positional) and the VMs (the rest; commander counted them), each VM by name or context id. */
async function groupAndVms(ctx: CommandContext): Promise<{ group: VmGroupView; vmIds: string[] }> {
  const [groupRef, ...vmRefs] = ctx.positionals;
  const group = await resolveGroup(ctx, groupRef ?? '');
  const vmIds: string[] = [];
  for (const ref of vmRefs) vmIds.push((await resolveContext(ctx, ref)).id);
  return { group, vmIds };
}

export const groupCommands: CliCommand[] = [
  {
    path: ['groups', 'list'],
    summary: 'List machine groups with their schedule, limits, members and VMs over the age target',
    run: (ctx) => ctx.invoke('groups:list', {}),
    human: (v) => {
      const views = v as VmGroupView[];
      if (views.length === 0) return 'No machine groups yet. Create one with `mkc groups add <name>`.';
      return table(
        ['NAME', 'ENABLED', 'PRIORITY', 'MAX VMS', 'SCHEDULE', 'AGE TARGET', 'MEMBERS', 'OVER TARGET'],
        views.map((g) => [
          g.group.name,
          g.group.enabled ? 'yes' : 'no',
          g.group.priority,
          g.group.maxConcurrentVms,
          g.group.scheduleId ?? '—',
          g.group.replicaAgeTargetSeconds === null ? '—' : `${g.group.replicaAgeTargetSeconds / 3600} h`,
          g.members.length,
          g.overTarget.length,
        ]),
      );
    },
  },
  {
    path: ['groups', 'add'],
    args: [{ name: 'name', description: 'group name' }],
    summary: 'Create a machine group (same fields and checks as the Machine groups form)',
    options: GROUP_OPTIONS,
    run: async (ctx) => ctx.invoke('groups:create', { name: onePositional(ctx), ...(await groupFields(ctx)) }),
    human: (v) => `Created ${groupLine(v as VmGroup)}`,
  },
  {
    path: ['groups', 'edit'],
    args: [{ name: 'group', description: 'group name or id' }],
    summary: 'Change a machine group: only the options given change',
    options: [{ name: 'name', type: 'string', description: 'new name' }, ...GROUP_OPTIONS],
    run: async (ctx) => {
      const g = await resolveGroup(ctx, onePositional(ctx));
      const name = str(ctx, 'name');
      const patch = { ...(await groupFields(ctx)), ...(name !== undefined ? { name } : {}) };
      if (Object.keys(patch).length === 0) throw new AppError('validation', `Nothing to change: give at least one of --name, ${GROUP_OPTIONS.map((o) => `--${o.name}`).join(', ')}`);
      return ctx.invoke('groups:update', { id: g.group.id, ...patch });
    },
    human: (v) => `Saved ${groupLine(v as VmGroup)}`,
  },
  {
    path: ['groups', 'members'],
    args: [{ name: 'group', description: 'group name or id' }],
    summary: 'Members of a machine group with their priority and whether they are synced',
    run: async (ctx) => (await resolveGroup(ctx, onePositional(ctx))).members,
    human: (v) => membersTable(v as VmGroupMember[]),
  },
  {
    path: ['groups', 'members', 'add'],
    args: [{ name: 'group', description: 'group name or id' }, { name: 'vm', description: 'VM name or context id', variadic: true }],
    argsWanted: 'the group and one or more VMs (name or context id)',
    summary: 'Add managed VMs to a group (a VM may be in several groups)',
    options: [{ name: 'priority', type: 'number', description: 'member priority: lower runs first within the group' }],
    run: async (ctx) => {
      const { group, vmIds } = await groupAndVms(ctx);
      const priority = num(ctx, 'priority');
      return ctx.invoke('groups:add-members', { groupId: group.group.id, vmContextIds: vmIds, ...(priority !== undefined ? { priority } : {}) });
    },
    human: (v) => membersTable(v as VmGroupMember[]),
  },
  {
    path: ['groups', 'members', 'remove'],
    args: [{ name: 'group', description: 'group name or id' }, { name: 'vm', description: 'VM name or context id', variadic: true }],
    argsWanted: 'the group and one or more VMs (name or context id)',
    summary: 'Remove VMs from a group (the VMs stay managed)',
    run: async (ctx) => {
      const { group, vmIds } = await groupAndVms(ctx);
      let members: VmGroupMember[] = group.members;
      for (const id of vmIds) members = await ctx.invoke('groups:remove-member', { groupId: group.group.id, vmContextId: id });
      return members;
    },
    human: (v) => membersTable(v as VmGroupMember[]),
  },
  {
    path: ['groups', 'members', 'set'],
    args: [{ name: 'group', description: 'group name or id' }, { name: 'vm', description: 'VM name or context id' }],
    argsWanted: 'the group and one VM (name or context id)',
    summary: "Change one member's priority or whether schedules sync it",
    options: [
      { name: 'priority', type: 'number', description: 'member priority: lower runs first within the group' },
      { name: 'enabled', type: 'string', choices: YES_NO, description: 'whether schedules sync this member' },
    ],
    run: async (ctx) => {
      const { group, vmIds } = await groupAndVms(ctx);
      const priority = num(ctx, 'priority');
      const enabled = yesNo(ctx, 'enabled');
      if (priority === undefined && enabled === undefined) throw new AppError('validation', 'Nothing to change: give --priority or --enabled');
      return ctx.invoke('groups:update-member', {
        groupId: group.group.id,
        vmContextId: vmIds[0]!,
        ...(priority !== undefined ? { priority } : {}),
        ...(enabled !== undefined ? { enabled } : {}),
      });
    },
    human: (v) => membersTable(v as VmGroupMember[]),
  },
];
