import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors';
import { normaliseDiscoveredVm, normaliseDiscovery, normaliseDiskKey, pickManagedVm } from './normalise';

// The shape from the seeds (000): a real VMA answer, with `cpus`/`os_type` aliases and a `"name": ""` NIC.
const seedVm = () => ({
  id: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
  name: 'pgtest2',
  path: '/DatabanxDC/vm/pgtest2',
  datacenter: 'DatabanxDC',
  num_cpu: 2,
  cpus: 2,
  memory_mb: 4096,
  power_state: 'poweredOn',
  guest_os: 'windows',
  vmx_version: 'vmx-15',
  disks: [
    {
      id: 'disk-2000',
      path: '[vsanDatastore] c31d8a68/PG-MIGRATIONDEV_1.vmdk',
      size_gb: 110,
      capacity_bytes: 118111600640,
      datastore: 'vsanDatastore',
      label: 'Hard disk 1',
      provisioning_type: 'thin',
    },
  ],
  networks: [
    {
      name: '',
      type: '',
      connected: true,
      mac_address: '00:50:56:85:BF:A2',
      label: 'Network adapter 1',
      network_name: 'QUAD_VLAN_1_STD',
      adapter_type: 'e1000e',
    },
  ],
});

const one = (raw: unknown) => {
  const r = normaliseDiscoveredVm(raw, 'FallbackDC');
  if (r.vm === null) throw new Error(`skipped: ${JSON.stringify(r.warnings)}`);
  return r;
};

describe('normaliseDiscoveredVm', () => {
  it('maps the seed shape field by field', () => {
    const { vm, warnings } = one(seedVm());
    expect(warnings).toEqual([]);
    expect(vm).toEqual({
      vmwareVmId: '4205784a-098a-40f1-1f1e-a5cd2597fd59',
      name: 'pgtest2',
      path: '/DatabanxDC/vm/pgtest2',
      datacenter: 'DatabanxDC',
      cpus: 2,
      memoryMb: 4096,
      osType: 'windows',
      powerState: 'poweredOn',
      vmxVersion: 'vmx-15',
      disks: [
        {
          diskKey: 'disk-2000',
          label: 'Hard disk 1',
          vmdkPath: '[vsanDatastore] c31d8a68/PG-MIGRATIONDEV_1.vmdk',
          datastore: 'vsanDatastore',
          capacityBytes: 118111600640,
          provisioningType: 'thin',
          unitNumber: null,
        },
      ],
      networks: [
        { label: 'Network adapter 1', networkName: 'QUAD_VLAN_1_STD', adapterType: 'e1000e', macAddress: '00:50:56:85:bf:a2', connected: true },
      ],
    });
  });

  it('takes num_cpu over cpus and ignores the empty aliases the real VMA sends', () => {
    const { vm } = one({ ...seedVm(), num_cpu: 8, cpus: 0, guest_os: 'linux', os_type: '' });
    expect(vm!.cpus).toBe(8);
    expect(vm!.osType).toBe('linux');
  });

  it('falls back to cpus, then 2; to os_type, then otherGuest', () => {
    expect(one({ ...seedVm(), num_cpu: 0, cpus: 6 }).vm!.cpus).toBe(6);
    expect(one({ ...seedVm(), num_cpu: null, cpus: 0 }).vm!.cpus).toBe(2);
    expect(one({ ...seedVm(), num_cpu: -4, cpus: 1.5 }).vm!.cpus).toBe(2);
    expect(one({ ...seedVm(), num_cpu: '4' }).vm!.cpus).toBe(4);
    expect(one({ ...seedVm(), guest_os: '', os_type: 'windows9Server64Guest' }).vm!.osType).toBe('windows9Server64Guest');
    expect(one({ ...seedVm(), guest_os: '  ', os_type: '' }).vm!.osType).toBe('otherGuest');
    const { guest_os: _g, ...noOs } = seedVm();
    expect(one(noOs).vm!.osType).toBe('otherGuest');
  });

  it('defaults memory to 4096 and power state to poweredOn, with a warning for an unknown state', () => {
    expect(one({ ...seedVm(), memory_mb: 0 }).vm!.memoryMb).toBe(4096);
    expect(one({ ...seedVm(), memory_mb: 'lots' }).vm!.memoryMb).toBe(4096);
    expect(one({ ...seedVm(), memory_mb: 16384 }).vm!.memoryMb).toBe(16384);
    expect(one({ ...seedVm(), power_state: 'poweredOff' }).vm!.powerState).toBe('poweredOff');
    expect(one({ ...seedVm(), power_state: 'suspended' }).vm!.powerState).toBe('suspended');
    const odd = one({ ...seedVm(), power_state: 'POWERED_ON' });
    expect(odd.vm!.powerState).toBe('poweredOn');
    expect(odd.warnings.map((w) => w.message).join()).toMatch(/unknown power state/);
    expect(one({ ...seedVm(), power_state: null }).warnings).toEqual([]);
  });

  it('uses the top-level datacenter when the VM has none', () => {
    expect(one({ ...seedVm(), datacenter: '' }).vm!.datacenter).toBe('FallbackDC');
  });

  it('computes capacity from size_gb when capacity_bytes is missing, and resolves vmdk_path', () => {
    const { vm } = one({
      ...seedVm(),
      disks: [{ id: 'disk-2001', size_gb: 2, vmdk_path: '[ds1] vm/vm_1.vmdk', unit_number: 1 }],
    });
    expect(vm!.disks[0]).toMatchObject({ diskKey: 'disk-2001', capacityBytes: 2 * 1024 ** 3, vmdkPath: '[ds1] vm/vm_1.vmdk', unitNumber: 1, provisioningType: 'unknown' });
  });

  it('keeps disks by device key in the order reported, skipping keyless and duplicate disks with warnings', () => {
    const { vm, warnings } = one({
      ...seedVm(),
      disks: [
        { id: 'disk-2001', capacity_bytes: 10, label: 'Hard disk 2' },
        { label: 'Hard disk 9', capacity_bytes: 10 },
        { id: '', capacity_bytes: 10 },
        'junk',
        { id: 'disk-2000', capacity_bytes: 20 },
        { id: 'disk-2001', capacity_bytes: 30 },
        { id: 2002, capacity_bytes: 40 },
      ],
    });
    expect(vm!.disks.map((d) => [d.diskKey, d.capacityBytes])).toEqual([
      ['disk-2001', 10],
      ['disk-2000', 20],
      ['disk-2002', 40],
    ]);
    const messages = warnings.map((w) => w.message);
    expect(messages).toHaveLength(4);
    expect(messages[0]).toMatch(/Hard disk 9.*no device key/);
    expect(messages.join('\n')).toMatch(/duplicate disk key disk-2001/);
    expect(warnings.every((w) => w.vm === 'pgtest2')).toBe(true);
  });

  it('keeps a disk without capacity but warns', () => {
    const { vm, warnings } = one({ ...seedVm(), disks: [{ id: 'disk-2000' }] });
    expect(vm!.disks[0]!.capacityBytes).toBe(0);
    expect(warnings[0]!.message).toMatch(/disk-2000 reports no capacity/);
  });

  it('handles networks: name fallback, placeholders kept, missing fields defaulted', () => {
    const { vm } = one({
      ...seedVm(),
      networks: [
        { name: 'VM Network', network_name: '', mac_address: null, connected: false },
        { label: 'Network adapter 2', network_name: 'DVS-PG-dvportgroup-42', adapter_type: 'vmxnet3', mac: 'AA:BB:CC:00:11:22', connected: 'true' },
        {},
        null,
      ],
    });
    expect(vm!.networks).toEqual([
      { label: 'Network adapter 1', networkName: 'VM Network', adapterType: 'unknown', macAddress: '', connected: false },
      { label: 'Network adapter 2', networkName: 'DVS-PG-dvportgroup-42', adapterType: 'vmxnet3', macAddress: 'aa:bb:cc:00:11:22', connected: true },
      { label: 'Network adapter 3', networkName: '', adapterType: 'unknown', macAddress: '', connected: false },
    ]);
  });

  it('treats null lists as empty without warning and non-list values with a warning', () => {
    expect(one({ ...seedVm(), disks: null, networks: null }).warnings).toEqual([]);
    const r = one({ ...seedVm(), disks: { id: 'disk-2000' }, networks: 'eth0' });
    expect(r.vm!.disks).toEqual([]);
    expect(r.warnings.map((w) => w.message)).toEqual(['disks is not a list and was ignored', 'networks is not a list and was ignored']);
  });

  it('skips a VM without id or name with a warning, and never throws on junk', () => {
    for (const raw of [{ ...seedVm(), id: '' }, { ...seedVm(), name: null }, { path: '/x' }, null, 42, 'vm', []]) {
      const r = normaliseDiscoveredVm(raw);
      expect(r.vm).toBeNull();
      expect(r.warnings).toHaveLength(1);
    }
    expect(normaliseDiscoveredVm({ ...seedVm(), id: '' }).warnings[0]).toEqual({ vm: 'pgtest2', message: 'VM without id was skipped' });
  });

  it('warns when the VM has no inventory path', () => {
    const r = one({ ...seedVm(), path: '' });
    expect(r.vm!.path).toBe('');
    expect(r.warnings[0]!.message).toMatch(/no inventory path/);
  });
});

describe('normaliseDiskKey', () => {
  it('keeps disk-NNNN and prefixes bare keys', () => {
    expect(normaliseDiskKey('disk-2000')).toBe('disk-2000');
    expect(normaliseDiskKey('2001')).toBe('disk-2001');
    expect(normaliseDiskKey(16000)).toBe('disk-16000');
    expect(normaliseDiskKey('')).toBeUndefined();
    expect(normaliseDiskKey(null)).toBeUndefined();
  });
});

describe('normaliseDiscovery', () => {
  it('reads vcenter host and datacenter and normalises every VM', () => {
    const r = normaliseDiscovery({
      vcenter: { host: 'vc.example.test', datacenter: 'DC1' },
      vms: [seedVm(), { ...seedVm(), id: 'b', name: 'second', datacenter: undefined }, { name: 'no-id' }],
    });
    expect(r.vcenterHost).toBe('vc.example.test');
    expect(r.datacenter).toBe('DC1');
    expect(r.vms.map((v) => [v.name, v.datacenter])).toEqual([
      ['pgtest2', 'DatabanxDC'],
      ['second', 'DC1'],
    ]);
    expect(r.warnings).toEqual([{ vm: 'no-id', message: 'VM without id was skipped' }]);
  });

  it('accepts vms: null (a Go nil slice) as no VMs', () => {
    const r = normaliseDiscovery({ vcenter: { host: 'h', datacenter: 'd' }, vms: null });
    expect(r.vms).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('skips a second VM with the same VMware id', () => {
    const r = normaliseDiscovery({ vcenter: { host: 'h', datacenter: 'd' }, vms: [seedVm(), { ...seedVm(), name: 'copy' }] });
    expect(r.vms).toHaveLength(1);
    expect(r.warnings[0]!.message).toMatch(/duplicate VMware id/);
  });

  it('warns when the vCenter host is missing', () => {
    const r = normaliseDiscovery({ vms: [] });
    expect(r.vcenterHost).toBe('');
    expect(r.warnings[0]!.message).toMatch(/vCenter host/);
  });

  it('rejects bodies that are not a discovery answer with remote_error', () => {
    for (const body of [null, 'text', [], { vcenter: {} }, { vms: {} }, { vms: 'x' }]) {
      let caught: unknown;
      try {
        normaliseDiscovery(body);
      } catch (e) {
        caught = e;
      }
      expect(isAppError(caught) && caught.code === 'remote_error').toBe(true);
    }
  });
});

describe('pickManagedVm', () => {
  const answer = (...entries: { id: string; name: string; path?: string }[]) =>
    normaliseDiscovery({ vcenter: { host: 'h', datacenter: 'd' }, vms: entries.map((e) => ({ ...seedVm(), ...e, path: e.path ?? `/d/vm/${e.name}` })) });

  it('picks the exact name with the id, not a substring match of the filter', () => {
    const pick = pickManagedVm(answer({ id: 'id-10', name: 'web10' }, { id: 'id-1', name: 'web1' }), { name: 'web1', vmwareVmId: 'id-1' });
    expect(pick).toMatchObject({ kind: 'found', vm: { name: 'web1', vmwareVmId: 'id-1' }, renamedFrom: null });
  });

  it('never takes a clone sharing the BIOS uuid whose name contains the VM name, even when it comes first', () => {
    const a = answer({ id: 'id-1', name: 'web10' }, { id: 'id-1', name: 'web1' });
    expect(a.vms.map((v) => v.name)).toEqual(['web10']);
    expect(a.sharedIdVms.map((v) => v.name)).toEqual(['web1']);
    expect(pickManagedVm(a, { name: 'web1', vmwareVmId: 'id-1' })).toMatchObject({ kind: 'found', vm: { name: 'web1' } });
  });

  it('a VM found only by id is a rename only when it is the only one and the old name is gone', () => {
    expect(pickManagedVm(answer({ id: 'id-1', name: 'web1-new' }), { name: 'web1', vmwareVmId: 'id-1' })).toMatchObject({ kind: 'found', vm: { name: 'web1-new' }, renamedFrom: 'web1' });
    const clones = pickManagedVm(answer({ id: 'id-1', name: 'web1-a' }, { id: 'id-1', name: 'web1-b' }), { name: 'web1', vmwareVmId: 'id-1' });
    expect(clones).toMatchObject({ kind: 'conflict' });
    expect(clones.kind === 'conflict' && clones.reason).toMatch(/shared by web1-a, web1-b/);
  });

  it('a namesake with another id is a conflict, not a match, whether or not the id is elsewhere', () => {
    const recreated = pickManagedVm(answer({ id: 'id-2', name: 'web1' }), { name: 'web1', vmwareVmId: 'id-1' });
    expect(recreated.kind === 'conflict' && recreated.reason).toMatch(/web1 in vCenter has VMware id id-2, not id-1/);
    const swapped = pickManagedVm(answer({ id: 'id-2', name: 'web1' }, { id: 'id-1', name: 'web1-clone' }), { name: 'web1', vmwareVmId: 'id-1' });
    expect(swapped.kind === 'conflict' && swapped.reason).toMatch(/id id-1 belongs to web1-clone/);
  });

  it('two VMs with the same name and id in different folders are ambiguous', () => {
    const pick = pickManagedVm(answer({ id: 'id-1', name: 'web1', path: '/d/vm/a/web1' }, { id: 'id-1', name: 'web1', path: '/d/vm/b/web1' }), { name: 'web1', vmwareVmId: 'id-1' });
    expect(pick.kind === 'conflict' && pick.reason).toMatch(/2 VMs named web1/);
  });

  it('missing when neither the name nor the id is there', () => {
    expect(pickManagedVm(answer({ id: 'id-9', name: 'db1' }), { name: 'web1', vmwareVmId: 'id-1' })).toEqual({ kind: 'missing' });
  });
});
