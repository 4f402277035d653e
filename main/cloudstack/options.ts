// The choices the CloudStack settings pickers offer, fetched live from the API.
import type { CloudStackOptions } from '../../shared/contract';
import type { CloudStackClient } from './client';

export async function fetchOptions(client: CloudStackClient): Promise<CloudStackOptions> {
  const [zones, diskOfferings, serviceOfferings, templates, networks, virtualMachines] = await Promise.all([
    client.listZones(),
    client.listDiskOfferings(),
    client.listServiceOfferings(),
    client.listTemplates('executable'),
    client.listNetworks(),
    client.listVirtualMachines(),
  ]);
  const zoneName = new Map(zones.map((z) => [z.id, z.name]));
  const withDetail = (id: string, name: string, detail: string | undefined) => (detail ? { id, name, detail } : { id, name });
  return {
    zones: zones.map((z) => withDetail(z.id, z.name, z.networktype)),
    diskOfferings: diskOfferings.map((o) =>
      withDetail(o.id, o.name, o.iscustomized ? 'custom size' : o.disksize !== undefined ? `${o.disksize} GiB` : undefined),
    ),
    serviceOfferings: serviceOfferings.map((o) =>
      withDetail(
        o.id,
        o.name,
        o.iscustomized ? 'custom CPU and memory' : o.cpunumber !== undefined ? `${o.cpunumber} vCPU, ${o.memory ?? '?'} MiB` : undefined,
      ),
    ),
    templates: templates.map((t) => withDetail(t.id, t.name, t.ostypename)),
    networks: networks.map((n) =>
      withDetail(n.id, n.name, [n.type, n.zoneid ? zoneName.get(n.zoneid) : undefined].filter(Boolean).join(' · ') || undefined),
    ),
    virtualMachines: virtualMachines.map((vm) => withDetail(vm.id, vm.name, vm.state)),
  };
}
