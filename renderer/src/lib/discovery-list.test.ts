import { describe, expect, it } from 'vitest';
import type { DiscoveryRow } from '../../../shared/discovery';
import { pruneSelection, visibleDiscoveryRows } from './discovery-list';

const row = (name: string, extra: Partial<DiscoveryRow> = {}): DiscoveryRow => ({
  vmwareVmId: `vm-${name}`,
  name,
  path: `/dc/vm/${name}`,
  datacenter: 'dc',
  cpus: 2,
  memoryMb: 2048,
  osType: 'ubuntu64Guest',
  powerState: 'poweredOn',
  vmxVersion: 'vmx-19',
  disks: [],
  networks: [],
  managedContextId: null,
  ...extra,
});

describe('discovery list helpers', () => {
  const rows = [row('web10', { cpus: 8 }), row('web2', { osType: 'windows2019srv_64Guest' }), row('db1', { powerState: 'poweredOff' })];
  it('filters the loaded inventory locally by name, path, OS or power', () => {
    expect(visibleDiscoveryRows(rows, 'web', { key: 'name', dir: 'asc' }).map((r) => r.name)).toEqual(['web2', 'web10']);
    expect(visibleDiscoveryRows(rows, 'windows', { key: 'name', dir: 'asc' }).map((r) => r.name)).toEqual(['web2']);
    expect(visibleDiscoveryRows(rows, 'poweredoff', { key: 'name', dir: 'asc' }).map((r) => r.name)).toEqual(['db1']);
  });
  it('sorts by any column in both directions', () => {
    expect(visibleDiscoveryRows(rows, '', { key: 'cpus', dir: 'desc' })[0]?.name).toBe('web10');
    expect(visibleDiscoveryRows(rows, '', { key: 'name', dir: 'desc' }).map((r) => r.name)).toEqual(['web10', 'web2', 'db1']);
  });
  it('drops ticked VMs that became managed, and keeps the same set when nothing changed', () => {
    const sel = new Set(['vm-web10', 'vm-web2']);
    const managed = [row('web10', { managedContextId: 'ctx-1' }), row('web2')];
    expect([...pruneSelection(sel, managed)]).toEqual(['vm-web2']);
    expect(pruneSelection(sel, rows)).toBe(sel);
  });
});
