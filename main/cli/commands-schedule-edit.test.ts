// mkc schedules add|edit|enable|disable and mkc groups list|add|edit|members: the same channels and
// schemas as the Schedules and Machine groups screens; bad input is refused with the message the
// screen gets for the same values, exit code 2, and nothing is written.
import { describe, expect, it } from 'vitest';
import { Core } from '../core/core';
import { createHandlers } from '../ipc/handlers';
import { dispatch } from '../ipc/dispatch';
import type { InvokeChannel } from '../../shared/contract';
import type { ScheduleExecution } from '../../shared/domain';
import type { HandlerMap } from '../ipc/handler-types';
import { EventBus } from '../ipc/event-bus';
import { acquireOwnerLock } from '../owner/owner-lock';
import { ownerPortOf } from '../owner/owner-port';
import { startControlServer } from '../owner/control-server';
import { controlSocketPath } from '../owner/control-protocol';
import { noSecrets, useCliHarness } from './cli-test-harness';

const h = useCliHarness('mkc-cli-sched-edit-');
const mkc = h.mkc;
const json = () => JSON.parse(h.out.join(''));

/** Reads the data directory with a core of its own (the CLI process closed its one). */
async function withCore<T>(fn: (core: Core) => T | Promise<T>): Promise<T> {
  const core = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

/** What the screen is told for the same request: dispatch through the handler map the renderer uses. */
async function uiMessage(channel: InvokeChannel, request: unknown): Promise<string> {
  return withCore(async (core) => {
    const r = await dispatch(createHandlers(core), channel, [request]);
    if (r.ok) throw new Error(`${channel} accepted ${JSON.stringify(request)}`);
    return r.error.message;
  });
}

function addVm(core: Core, name: string): string {
  return core.contexts.add({
    vm: { vmwareVmId: `id-${name}`, name, path: `/DC/vm/${name}`, datacenter: 'DC', cpus: 2, memoryMb: 2048, osType: 'linux', powerState: 'poweredOn', vmxVersion: 'vmx-19', disks: [], networks: [] },
    vcenterHost: 'vc',
    credentialId: null,
    vmaApplianceId: null,
  }).id;
}

describe('mkc schedules add|edit|enable|disable', () => {
  it('adds a schedule with every field the form has', async () => {
    const args = ['schedules', 'add', 'nightly', '--cron', '30 2 * * *', '--timezone', 'Europe/Berlin', '--sync-type', 'full', '--max-concurrent', '4'];
    expect(await mkc(...args, '--skip-if-running', 'no', '--retry-attempts', '2', '--retry-delay', '300', '--catch-up', 'run_once', '--enabled', 'no', '--json')).toBe(0);
    expect(json()).toMatchObject({ name: 'nightly', cronExpression: '30 2 * * *', timezone: 'Europe/Berlin', syncType: 'full', maxConcurrentJobs: 4 });
    const stored = await withCore((core) => core.schedules.list());
    expect(stored).toMatchObject([
      { name: 'nightly', cronExpression: '30 2 * * *', timezone: 'Europe/Berlin', syncType: 'full', maxConcurrentJobs: 4, skipIfRunning: false, retryAttempts: 2, retryDelaySeconds: 300, catchUp: 'run_once', enabled: false },
    ]);
    // Defaults as the form's when options are left h.out; the human line says what was stored.
    expect(await mkc('schedules', 'add', 'hourly', '--cron', '0 0 * * * *')).toBe(0);
    expect(h.out.join('\n')).toMatch(/^Created hourly \(\S+\): "0 0 \* \* \* \*" in UTC, enabled, auto sync/);
  });

  it.each([
    ['a cron expression with 4 fields', ['--cron', '0 2 * *'], { cronExpression: '0 2 * *' }, /has 4/],
    ['a minute h.out of range', ['--cron', '61 2 * * *'], { cronExpression: '61 2 * * *' }, /Invalid cron expression "61 2 \* \* \*"/],
    ['an unknown time zone', ['--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'], { cronExpression: '0 2 * * *', timezone: 'Mars/Olympus' }, /Unknown time zone "Mars\/Olympus"/],
    ['no concurrency', ['--cron', '0 2 * * *', '--max-concurrent', '0'], { cronExpression: '0 2 * * *', maxConcurrentJobs: 0 }, /maxConcurrentJobs/],
    ['a fractional retry count', ['--cron', '0 2 * * *', '--retry-attempts', '1.5'], { cronExpression: '0 2 * * *', retryAttempts: 1.5 }, /retryAttempts/],
    ['a negative retry delay', ['--cron', '0 2 * * *', '--retry-delay', '-1'], { cronExpression: '0 2 * * *', retryDelaySeconds: -1 }, /retryDelaySeconds/],
  ])('refuses %s with the form\'s message, exit 2, nothing stored', async (_what, options, request, message) => {
    const expected = await uiMessage('schedules:create', { name: 'bad', ...request });
    expect(expected).toMatch(message);
    expect(await mkc('schedules', 'add', 'bad', ...options)).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${expected}`);
    expect(await withCore((core) => core.schedules.list())).toEqual([]);
  });

  it('refuses values outside the closed sets and a missing expression before anything is sent', async () => {
    expect(await mkc('schedules', 'add', 'bad', '--cron', '0 2 * * *', '--sync-type', 'partial')).toBe(2);
    expect(h.err.join('\n')).toMatch(/--sync-type must be one of auto, full/);
    expect(await mkc('schedules', 'add', 'bad', '--cron', '0 2 * * *', '--catch-up', 'always')).toBe(2);
    expect(await mkc('schedules', 'add', 'bad')).toBe(2);
    expect(h.err.join('\n')).toMatch(/--cron is required/);
    expect(await mkc('schedules', 'add', '--cron', '0 2 * * *')).toBe(2);
    expect(h.err.join('\n')).toMatch(/Give exactly one schedule name/);
    expect(await withCore((core) => core.schedules.list())).toEqual([]);
  });

  it('edits only what is given, by name or id; refuses a bad edit and keeps the schedule as it was', async () => {
    expect(await mkc('schedules', 'add', 'nightly', '--cron', '30 2 * * *', '--timezone', 'Europe/Berlin', '--retry-attempts', '3', '--json')).toBe(0);
    const id = json().id as string;
    expect(await mkc('schedules', 'edit', 'nightly', '--cron', '0 3 * * 1-5', '--name', 'weekdays', '--json')).toBe(0);
    expect(json()).toMatchObject({ id, name: 'weekdays', cronExpression: '0 3 * * 1-5', timezone: 'Europe/Berlin', retryAttempts: 3 });
    expect(await mkc('schedules', 'edit', id, '--sync-type', 'full', '--skip-if-running', 'yes')).toBe(0);
    expect(h.out.join('\n')).toMatch(/^Saved weekdays .*full sync.*skips VMs still syncing/);

    const before = await withCore((core) => core.schedules.require(id));
    const expected = await uiMessage('schedules:update', { id, timezone: 'Nowhere/Land' });
    expect(await mkc('schedules', 'edit', 'weekdays', '--timezone', 'Nowhere/Land')).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${expected}`);
    expect(await mkc('schedules', 'edit', 'weekdays', '--name', '')).toBe(2);
    expect(await mkc('schedules', 'edit', 'weekdays')).toBe(2);
    expect(h.err.join('\n')).toMatch(/Nothing to change: give at least one of --name, --cron/);
    expect(await withCore((core) => core.schedules.require(id))).toEqual(before);
    expect(await mkc('schedules', 'edit', 'nope', '--cron', '0 1 * * *')).toBe(1);
    expect(h.err.join('\n')).toMatch(/No schedule named nope/);
  });

  it('disables and enables a schedule', async () => {
    expect(await mkc('schedules', 'add', 'nightly', '--cron', '30 2 * * *')).toBe(0);
    expect(await mkc('schedules', 'disable', 'nightly')).toBe(0);
    expect(h.out.join('\n')).toMatch(/nightly .*disabled/);
    expect(await withCore((core) => core.schedules.list()[0]!.enabled)).toBe(false);
    expect(await mkc('schedules', 'list')).toBe(0);
    expect(h.out.join('\n')).toMatch(/nightly\s+30 2 \* \* \*\s+UTC\s+no/);
    expect(await mkc('schedules', 'enable', 'nightly', '--json')).toBe(0);
    expect(json()).toMatchObject({ name: 'nightly', enabled: true });
    expect(await mkc('schedules', 'enable')).toBe(2);
    expect(await mkc('schedules', 'disable', 'nope')).toBe(1);
  });
});

describe('mkc groups list|add|edit|members', () => {
  it('adds a group with every field the form has and lists it', async () => {
    expect(await mkc('schedules', 'add', 'nightly', '--cron', '30 2 * * *', '--json')).toBe(0);
    const scheduleId = json().id as string;
    expect(await mkc('groups', 'add', 'web', '--description', 'front ends', '--schedule', 'nightly', '--max-concurrent', '3', '--priority', '5', '--age-target-hours', '24', '--json')).toBe(0);
    expect(json()).toMatchObject({ name: 'web', description: 'front ends', scheduleId, maxConcurrentVms: 3, priority: 5, replicaAgeTargetSeconds: 86400, enabled: true });
    expect(await mkc('groups', 'add', 'db', '--enabled', 'no', '--age-target-hours', '1.5')).toBe(0);
    expect(h.out.join('\n')).toMatch(/^Created db \(\S+\): disabled, .*no schedule, age target 1.5 h/);
    expect(await mkc('groups', 'list')).toBe(0);
    expect(h.out.join('\n')).toMatch(/web\s+yes\s+5\s+3\s+\S+\s+24 h\s+0\s+0/);
    expect(h.out.join('\n')).toMatch(/db\s+no/);
  });

  it.each([
    ['no concurrency', ['--max-concurrent', '0'], { maxConcurrentVms: 0 }, /maxConcurrentVms/],
    ['a negative priority', ['--priority', '-1'], { priority: -1 }, /priority/],
    ['an age target under a minute', ['--age-target-hours', '0.001'], { replicaAgeTargetSeconds: 4 }, /replicaAgeTargetSeconds/],
    ['an age target that is not a number', ['--age-target-hours', 'soon'], { replicaAgeTargetSeconds: Number.NaN }, /replicaAgeTargetSeconds/],
  ])('refuses %s with the form\'s message, exit 2, nothing stored', async (_what, options, request, message) => {
    const expected = await uiMessage('groups:create', { name: 'bad', ...request });
    expect(expected).toMatch(message);
    expect(await mkc('groups', 'add', 'bad', ...options)).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${expected}`);
    expect(await withCore((core) => core.groups.list())).toEqual([]);
  });

  it('refuses a schedule that does not exist and stores nothing', async () => {
    expect(await mkc('groups', 'add', 'web', '--schedule', 'nope')).toBe(1);
    expect(h.err.join('\n')).toMatch(/No schedule named nope/);
    expect(await withCore((core) => core.groups.list())).toEqual([]);
  });

  it('edits only what is given and keeps the group on a bad edit', async () => {
    expect(await mkc('schedules', 'add', 'nightly', '--cron', '30 2 * * *')).toBe(0);
    expect(await mkc('groups', 'add', 'web', '--schedule', 'nightly', '--age-target-hours', '24', '--json')).toBe(0);
    const id = json().id as string;
    expect(await mkc('groups', 'edit', 'web', '--schedule', 'none', '--age-target-hours', 'none', '--name', 'frontends', '--json')).toBe(0);
    expect(json()).toMatchObject({ id, name: 'frontends', scheduleId: null, replicaAgeTargetSeconds: null, maxConcurrentVms: 5 });
    const before = await withCore((core) => core.groups.require(id));
    const expected = await uiMessage('groups:update', { id, maxConcurrentVms: 1001 });
    expect(await mkc('groups', 'edit', 'frontends', '--max-concurrent', '1001')).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${expected}`);
    expect(await mkc('groups', 'edit', 'frontends')).toBe(2);
    expect(h.err.join('\n')).toMatch(/Nothing to change/);
    expect(await withCore((core) => core.groups.require(id))).toEqual(before);
  });

  it('adds, lists, re-prioritises, disables and removes members by VM name or context id', async () => {
    const ids = await withCore((core) => ({ web1: addVm(core, 'web1'), web2: addVm(core, 'web2'), db1: addVm(core, 'db1') }));
    expect(await mkc('groups', 'add', 'web')).toBe(0);
    expect(await mkc('groups', 'members', 'web')).toBe(0);
    expect(h.out.join('\n')).toMatch(/No members yet/);
    expect(await mkc('groups', 'members', 'add', 'web', 'web1', ids.web2, '--priority', '3', '--json')).toBe(0);
    expect(json()).toMatchObject([
      { vmName: 'web1', priority: 3, enabled: true },
      { vmName: 'web2', priority: 3, enabled: true },
    ]);
    expect(await mkc('groups', 'members', 'set', 'web', 'web2', '--priority', '1', '--enabled', 'no')).toBe(0);
    expect(h.out.join('\n')).toMatch(/web2\s+\S+\s+1\s+no/);
    expect(await mkc('groups', 'members', 'remove', 'web', 'web1')).toBe(0);
    expect(await mkc('groups', 'members', 'web', '--json')).toBe(0);
    expect(json()).toMatchObject([{ vmName: 'web2', vmContextId: ids.web2, priority: 1, enabled: false }]);
    expect(await withCore((core) => core.groups.members(core.groups.list()[0]!.id).map((m) => [m.vmName, m.priority, m.enabled]))).toEqual([['web2', 1, false]]);
  });

  it('refuses bad member input with exit 2 and changes nothing', async () => {
    await withCore((core) => addVm(core, 'web1'));
    expect(await mkc('groups', 'add', 'web')).toBe(0);
    expect(await mkc('groups', 'members', 'add', 'web', 'web1', '--priority', '2')).toBe(0);
    const before = await withCore((core) => core.groups.members(core.groups.list()[0]!.id));
    const groupId = before[0]!.groupId;
    const expected = await uiMessage('groups:update-member', { groupId, vmContextId: before[0]!.vmContextId, priority: -5 });
    expect(await mkc('groups', 'members', 'set', 'web', 'web1', '--priority', '-5')).toBe(2);
    expect(h.err.join('\n')).toBe(`mkc: ${expected}`);
    expect(await mkc('groups', 'members', 'set', 'web', 'web1')).toBe(2);
    expect(h.err.join('\n')).toMatch(/Nothing to change: give --priority or --enabled/);
    expect(await mkc('groups', 'members', 'set', 'web', 'web1', '--enabled', 'maybe')).toBe(2);
    expect(await mkc('groups', 'members', 'add', 'web')).toBe(2);
    expect(h.err.join('\n')).toMatch(/Give the group and one or more VMs/);
    expect(await mkc('groups', 'members', 'add', 'web', 'web1', '--priority', '1.5')).toBe(2);
    expect(await mkc('groups', 'members', 'add', 'web', 'ghost')).toBe(1);
    expect(h.err.join('\n')).toMatch(/No managed VM named ghost/);
    expect(await withCore((core) => core.groups.members(groupId))).toEqual(before);
  });
});

describe('mkc schedules run follows pushed executions', () => {
  it('returns when the owner pushes the final state, without re-reading on a timer', { timeout: 10_000 }, async () => {
    // An owner whose run-now opens an execution the test ends by hand, so the run lasts as long as the test says.
    const lock = acquireOwnerLock(h.dir, 'test owner');
    const core = new Core({ dataDir: h.dir, transport: 'cli', secrets: noSecrets, owner: ownerPortOf(lock), bus: new EventBus({ intervalMs: 20 }) });
    const s = core.scheduler.createSchedule({ name: 'nightly', cronExpression: '30 2 * * *' });
    const real = createHandlers(core, { trigger: 'cli' });
    const gets: string[] = [];
    let opened: ScheduleExecution | null = null;
    const handlers = {
      ...real,
      'schedules:run-now': () => (opened = core.executions.open({ scheduleId: s.id, trigger: 'manual', scheduledFor: new Date().toISOString(), now: new Date().toISOString() })),
      'executions:get': (req: { id: string }) => {
        gets.push(req.id);
        // The first read sees it running; the run then ends and the owner pushes that.
        if (gets.length === 1) setTimeout(() => core.executions.finish(req.id, 'completed', new Date().toISOString()), 50);
        return (real['executions:get'] as (r: { id: string }) => unknown)(req);
      },
    } as HandlerMap;
    const server = await startControlServer({ socketPath: controlSocketPath(h.dir), handlers, bus: core.bus, hello: { pid: process.pid, since: lock.info.since, transport: 'test owner', dataDir: h.dir } });
    try {
      expect(await mkc('schedules', 'run', 'nightly', '--json')).toBe(0);
      expect(json()).toMatchObject({ id: opened!.id, status: 'completed' });
      expect(gets).toEqual([opened!.id, opened!.id]);
    } finally {
      await server.close();
      await core.close();
      lock.release();
    }
  });
});
