import type { Core } from '../../core/core';
import type { HandlerMap } from '../handler-types';
import { AppError } from '../../../shared/errors';

const notAvailable = (what: string) => (): never => {
  throw new AppError('not_available', `${what} is not available in this version yet`);
};

/** The one handler map every transport serves. */
export function createHandlers(core: Core): HandlerMap {
  return {
    'app:info': () => ({
      version: core.version,
      transport: core.transport === 'electron' ? 'electron' : 'dev-bridge',
      dataDir: core.dataDir,
      schemaVersion: core.schemaVersion(),
      schedulesActive: false,
    }),
    'contexts:list': () => core.contexts.list(),
    'contexts:get': ({ id }) => ({
      context: core.contexts.require(id),
      disks: core.contexts.disks(id),
      jobs: [],
      cbtHistory: [],
    }),
    'contexts:add': notAvailable('Adding VMs from discovery'),
    'appliances:list': notAvailable('Appliance management'),
    'appliances:add': notAvailable('Appliance management'),
    'appliances:remove': notAvailable('Appliance management'),
    'appliances:connect': notAvailable('Appliance connectivity'),
    'appliances:disconnect': notAvailable('Appliance connectivity'),
    'appliances:trust-host-key': notAvailable('Appliance connectivity'),
    'appliances:forget-host-key': notAvailable('Appliance connectivity'),
    'appliances:tunnel-states': () => [],
    'credentials:list': notAvailable('vCenter credentials'),
    'credentials:add': notAvailable('vCenter credentials'),
    'credentials:remove': notAvailable('vCenter credentials'),
    'discovery:run': notAvailable('Discovery'),
    'replication:start': notAvailable('Replication'),
    'jobs:list': notAvailable('Replication jobs'),
    'jobs:get': notAvailable('Replication jobs'),
    'jobs:cancel': notAvailable('Replication jobs'),
    'jobs:delete': notAvailable('Replication jobs'),
    'cloudstack:get-config': notAvailable('CloudStack settings'),
    'cloudstack:save-config': notAvailable('CloudStack settings'),
    'cloudstack:test': notAvailable('CloudStack settings'),
    'cloudstack:options': notAvailable('CloudStack settings'),
    'logs:operations': (f) => core.logbook.operations(f),
    'logs:events': (f) => core.logbook.events(f),
    'logs:steps': ({ operationId }) => core.logbook.steps(operationId),
    'logs:export': notAvailable('Log export'),
    'schedules:list': notAvailable('Schedules'),
    'groups:list': notAvailable('Machine groups'),
    'failover:list': notAvailable('Failover'),
  };
}
