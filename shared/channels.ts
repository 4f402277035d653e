// The channel allowlists without the validation schemas: what the preload needs, so its sandboxed
// bundle stays small (no zod). The mapped types make the compiler refuse a list that misses or adds
// a channel of InvokeMap / EventMap.
import type { EventChannel, InvokeChannel } from './contract';

const invokeChannelSet: { [C in InvokeChannel]: true } = {
  'app:info': true,
  'desktop:get-settings': true,
  'desktop:save-settings': true,
  'contexts:list': true,
  'contexts:page': true,
  'contexts:get': true,
  'contexts:add': true,
  'contexts:set-enabled': true,
  'contexts:removal-plan': true,
  'contexts:remove': true,
  'contexts:schedule-plans': true,
  'appliances:list': true,
  'appliances:add': true,
  'appliances:remove': true,
  'appliances:update': true,
  'appliances:connect': true,
  'appliances:disconnect': true,
  'appliances:trust-host-key': true,
  'appliances:forget-host-key': true,
  'appliances:tunnel-states': true,
  'credentials:list': true,
  'credentials:add': true,
  'credentials:remove': true,
  'credentials:update': true,
  'credentials:test': true,
  'discovery:run': true,
  'replication:start': true,
  'jobs:list': true,
  'jobs:get': true,
  'jobs:cancel': true,
  'jobs:delete': true,
  'cloudstack:get-config': true,
  'cloudstack:save-config': true,
  'cloudstack:test': true,
  'cloudstack:options': true,
  'secrets:status': true,
  'logs:operations': true,
  'logs:events': true,
  'logs:steps': true,
  'logs:export': true,
  'schedules:list': true,
  'schedules:create': true,
  'schedules:update': true,
  'schedules:delete': true,
  'schedules:run-now': true,
  'schedules:preview': true,
  'groups:list': true,
  'groups:create': true,
  'groups:update': true,
  'groups:delete': true,
  'groups:add-members': true,
  'groups:update-member': true,
  'groups:remove-member': true,
  'executions:list': true,
  'executions:get': true,
  'overview:get': true,
  'failover:list': true,
  'failover:validate': true,
  'failover:start': true,
  'failover:rollback': true,
  'failover:networks': true,
  'failover:map-network': true,
  'failover:boot-disk': true,
};

const eventChannelSet: { [C in EventChannel]: true } = {
  'contexts:changed': true,
  'jobs:progress': true,
  'jobs:step': true,
  'tunnels:state': true,
  'logs:appended': true,
  'app:open': true,
  'executions:changed': true,
};

export const INVOKE_CHANNELS = Object.keys(invokeChannelSet) as InvokeChannel[];
export const EVENT_CHANNELS = Object.keys(eventChannelSet) as EventChannel[];

export const isInvokeChannel = (c: unknown): c is InvokeChannel =>
  typeof c === 'string' && Object.prototype.hasOwnProperty.call(invokeChannelSet, c);
export const isEventChannel = (c: unknown): c is EventChannel =>
  typeof c === 'string' && Object.prototype.hasOwnProperty.call(eventChannelSet, c);
