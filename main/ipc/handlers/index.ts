import type { Core } from '../../core/core';
import type { HandlerMap } from '../handler-types';
import type { JobTrigger } from '../../../shared/domain';
import { fetchOptions } from '../../cloudstack/options';
import { testConnection } from '../../cloudstack/connection-test';
import { writeLogExport } from '../../logbook/log-export';
import { secretStoreStatus } from '../../secrets/secret-store';
import { appLogFile } from '../../base/app-log';
import { describeSecretStore } from '../../secrets/describe-store';
import fs from 'node:fs';
import { ownerView } from '../../owner/owner-port';

import { executionDetail, groupViews, scheduleViews, vmSchedulePlans } from '../../scheduler/schedule-views';
import { overviewView } from '../../scheduler/overview';

export interface HandlerOptions {
  /** What started a replication through this map: the renderer ('ui') or `mkc` over the control channel ('cli'). */
  trigger?: JobTrigger;
}

function failoverNetworks(core: Core, contextId: string) {
  const ctx = core.contexts.require(contextId);
  return {
    sourceNetworks: [...new Set(ctx.specs.networks.map((n) => n.networkName))],
    mappings: core.networkMappings.forContext(contextId),
    bootDisk: core.networkMappings.bootDisk(contextId),
  };
}

/** The one handler map every transport serves. */
export function createHandlers(core: Core, options: HandlerOptions = {}): HandlerMap {
  const trigger = options.trigger ?? 'ui';
  return {
    'app:info': () => ({
      version: core.version,
      transport: core.transport === 'electron' ? 'electron' : 'dev-bridge',
      dataDir: core.dataDir,
      logFile: fs.existsSync(appLogFile(core.dataDir)) ? appLogFile(core.dataDir) : null,
      schemaVersion: core.schemaVersion(),
      schedulesActive: core.scheduler.active,
      secretStore: describeSecretStore(core.secrets),
      owner: ownerView(core.owner),
      lab: core.lab,
    }),
    'desktop:get-settings': () => core.desktop.get(),
    'desktop:save-settings': (input) => core.desktop.save(input),
    'contexts:list': () => core.contexts.list(),
    'contexts:page': ({ offset, limit }) => core.contexts.page(offset ?? 0, limit),
    'contexts:get': ({ id }) => ({
      context: core.contexts.require(id),
      disks: core.contexts.disks(id),
      jobs: core.jobs.list({ contextId: id, limit: 50 }),
      cbtHistory: core.jobs.cbtHistory(id, 100),
    }),
    'contexts:add': ({ discoveryId, vmwareVmIds }) => core.discovery.addFromDiscovery(discoveryId, vmwareVmIds),
    'contexts:set-enabled': ({ id, enabled }) => core.management.setEnabled(id, enabled),
    'contexts:removal-plan': ({ ids }) => core.management.plan(ids),
    'contexts:remove': ({ id, volumes }) => core.management.remove(id, volumes),
    'contexts:schedule-plans': () => vmSchedulePlans(core),
    'appliances:list': () => core.appliances.list(),
    'appliances:add': (input) => core.appliances.add(input),
    'appliances:remove': async ({ id }) => {
      await core.appliances.remove(id);
      return { removed: true as const };
    },
    'appliances:update': (input) => core.appliances.update(input),
    'appliances:connect': ({ id, waitSeconds }) => core.appliances.connect(id, waitSeconds === undefined ? undefined : waitSeconds * 1000),
    'appliances:disconnect': ({ id }) => core.appliances.disconnect(id),
    'appliances:trust-host-key': ({ id, fingerprint }) => core.appliances.trustHostKey(id, fingerprint),
    'appliances:forget-host-key': ({ id }) => core.appliances.forgetHostKey(id),
    'appliances:tunnel-states': () => core.appliances.tunnelStates(),
    'credentials:list': () => core.credentials.list(),
    'credentials:add': (input) => core.credentials.add(input),
    'credentials:update': (input) => core.credentials.update(input),
    'credentials:test': ({ id, applianceId }) => core.credentials.test(id, core.appliances, applianceId),
    'credentials:remove': ({ id }) => {
      core.credentials.remove(id);
      return { removed: true as const };
    },
    'discovery:run': ({ applianceId, credentialId, filter }) => core.discovery.run(applianceId, credentialId, filter),
    'replication:start': ({ contextId }) => core.engine.start(contextId, { trigger }),
    'jobs:list': (f) => core.jobs.list(f),
    'jobs:get': ({ id }) => ({ job: core.jobs.require(id), disks: core.jobs.jobDisks(id), steps: core.logbook.steps(id), phases: core.logbook.phases(id) }),
    'jobs:cancel': ({ id }) => core.engine.cancel(id),
    'jobs:delete': async ({ id, deleteVolumes }) => {
      await core.engine.deleteJob(id, deleteVolumes ?? false);
      return { deleted: true as const };
    },
    'cloudstack:get-config': () => core.cloudstack.view(),
    'cloudstack:save-config': (input) => core.cloudstack.save(input),
    'cloudstack:test': () => testConnection(core.cloudstack.client()),
    'cloudstack:options': () => fetchOptions(core.cloudstack.client()),
    'secrets:status': () => secretStoreStatus(core.secrets),
    'logs:operations': (f) => core.logbook.operations(f),
    'logs:events': (f) => core.logbook.events(f),
    'logs:steps': ({ operationId }) => core.logbook.steps(operationId),
    'logs:export': (f) => writeLogExport(core.logbook, core.dataDir, f),
    'schedules:list': () => scheduleViews(core),
    'schedules:create': (input) => core.scheduler.createSchedule(input),
    'schedules:update': ({ id, ...patch }) => core.scheduler.updateSchedule(id, patch),
    'schedules:delete': ({ id }) => {
      core.scheduler.deleteSchedule(id);
      return { deleted: true as const };
    },
    'schedules:run-now': ({ id }) => core.scheduler.runNow(id),
    'schedules:preview': ({ cronExpression, timezone, count }) => ({
      runs: core.scheduler.preview(cronExpression, timezone, count ?? 5).map((d) => d.toISOString()),
    }),
    'groups:list': () => groupViews(core),
    'groups:create': (input) => core.machineGroups.create(input),
    'groups:update': ({ id, ...patch }) => core.machineGroups.update(id, patch),
    'groups:delete': ({ id }) => {
      core.machineGroups.remove(id);
      return { deleted: true as const };
    },
    'groups:add-members': ({ groupId, vmContextIds, priority }) => core.machineGroups.addMembers(groupId, vmContextIds, priority),
    'groups:update-member': ({ groupId, vmContextId, ...patch }) => core.machineGroups.updateMember(groupId, vmContextId, patch),
    'groups:remove-member': ({ groupId, vmContextId }) => core.machineGroups.removeMember(groupId, vmContextId),
    'executions:list': (f) => core.executions.list(f),
    'executions:get': ({ id }) => executionDetail(core, id),
    'overview:get': ({ since }) => overviewView(core, since),
    'failover:list': (f) => core.failover.list(f),
    'failover:validate': ({ contextId, kind }) => core.failover.validate(contextId, kind),
    'failover:start': ({ contextId, ...input }) => core.failover.start(contextId, input),
    'failover:rollback': ({ failoverId, powerOnSource }) => core.failover.rollback(failoverId, powerOnSource === undefined ? {} : { powerOnSource }),
    'failover:networks': ({ contextId }) => failoverNetworks(core, contextId),
    'failover:map-network': ({ contextId, sourceNetwork, liveNetworkId, testNetworkId }) => {
      const targets = { liveNetworkId, testNetworkId };
      if (contextId) {
        core.networkMappings.set(contextId, sourceNetwork, targets);
        return { contextIds: [contextId] };
      }
      return { contextIds: core.networkMappings.setByName(sourceNetwork, targets) };
    },
    'failover:boot-disk': ({ contextId, diskKey }) => {
      core.networkMappings.setBootDisk(contextId, diskKey);
      return failoverNetworks(core, contextId);
    },
  };
}
