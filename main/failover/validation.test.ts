import { describe, expect, it } from 'vitest';
import { findingRef } from '../../shared/failover';
import { attachOrder, resolveBootDisk } from './boot-disk';
import { uncovered, validateFailover, type ValidationFacts } from './validation';

const OMA = 'oma-vm-1';
const nic = (networkName: string) => ({ label: 'NIC', networkName, adapterType: 'vmxnet3', macAddress: '', connected: true });

/** A VM that passes every check; each test breaks one fact. */
const good = (over: Partial<ValidationFacts> = {}): ValidationFacts => ({
  kind: 'test',
  vm: { name: 'db01', status: 'ready_for_failover', lastSuccessfulJobId: 'job-1', cpus: 2, memoryMb: 4096, networks: [nic('LAN'), nic('DMZ')] },
  disks: [
    { diskKey: 'disk-3000', unitNumber: 0, lastChangeId: 'c1', volumeId: 'v1' },
    { diskKey: 'disk-3001', unitNumber: 1, lastChangeId: 'c2', volumeId: 'v2' },
  ],
  bootDiskChoice: 'disk-3000',
  activeJobId: null,
  missingConfig: [],
  omaVmId: OMA,
  volumes: [
    { id: 'v1', virtualmachineid: OMA, state: 'Ready' },
    { id: 'v2', virtualmachineid: OMA, state: 'Ready' },
  ],
  mappings: [
    { vmContextId: 'c', sourceNetwork: 'LAN', liveNetworkId: 'n-live', testNetworkId: 'n-test' },
    { vmContextId: 'c', sourceNetwork: 'DMZ', liveNetworkId: 'n-live2', testNetworkId: 'n-test2' },
  ],
  networkIds: ['n-live', 'n-test', 'n-live2', 'n-test2'],
  offering: { name: 'Custom', iscustomized: true },
  ...over,
});

const codes = (f: ValidationFacts) => validateFailover(f).map((x) => `${x.severity}:${findingRef(x)}`);

describe('failover validation', () => {
  it('finds nothing for a replicated, mapped VM on the OMA appliance', () => {
    expect(validateFailover(good())).toEqual([]);
  });

  it('needs a completed sync and a change id on every disk', () => {
    const f = good({ vm: { ...good().vm, lastSuccessfulJobId: null } });
    f.disks[1]!.lastChangeId = null;
    expect(codes(f)).toEqual(['error:no_completed_sync', 'error:missing_change_id:disk-3001']);
  });

  it('relies on the VM status for torn replicas and refuses while a job runs', () => {
    expect(codes(good({ vm: { ...good().vm, status: 'failed' }, activeJobId: 'job-9' }))).toEqual(['error:not_ready', 'error:job_running:job-9']);
  });

  it('needs each volume to exist and sit on the OMA appliance; an unreachable CloudStack is an error, not a pass', () => {
    expect(codes(good({ volumes: [{ id: 'v1', virtualmachineid: 'someone-else' }] }))).toEqual([
      'error:volume_not_on_oma:disk-3000',
      'error:volume_missing:disk-3001',
    ]);
    expect(codes(good({ volumes: null, cloudstackError: 'ECONNREFUSED' }))).toEqual(['error:cloudstack_unreachable']);
    // Volumes listed, then the network listing failed: still blocked, not silently unchecked.
    expect(codes(good({ networkIds: null, cloudstackError: 'HTTP 431' }))).toEqual(['error:cloudstack_unreachable']);
  });

  it('maps every NIC for the failover kind and knows the target network', () => {
    const mappings = [{ vmContextId: 'c', sourceNetwork: 'LAN', liveNetworkId: 'n-live', testNetworkId: 'gone' }];
    expect(codes(good({ mappings }))).toEqual(['error:network_unknown:LAN', 'error:nic_unmapped:DMZ']);
    expect(codes(good({ vm: { ...good().vm, networks: [] } }))).toEqual(['error:nic_unmapped']);
  });

  it('a fixed offering must fit CPU and memory; a custom one always fits', () => {
    expect(codes(good({ offering: { name: 'Small', iscustomized: false, cpunumber: 1, memory: 8192 } }))).toEqual(['error:offering_too_small']);
    expect(codes(good({ offering: { name: 'Big', iscustomized: false, cpunumber: 4, memory: 8192 } }))).toEqual([]);
  });

  it('does not guess disk-2000: an unknown boot disk is an error, unit 0 a warning', () => {
    expect(codes(good({ bootDiskChoice: null }))).toEqual(['warning:boot_disk_assumed:disk-3000']);
    const noUnits = good({ bootDiskChoice: null });
    noUnits.disks = noUnits.disks.map((d) => ({ ...d, unitNumber: null }));
    expect(codes(noUnits)).toEqual(['error:boot_disk_unknown']);
    expect(codes(good({ bootDiskChoice: 'disk-2000' }))).toEqual(['error:boot_disk_unknown']);
  });

  it('live failover needs the source power state through the VMA and the live networks; missing settings are named', () => {
    expect(codes(good({ kind: 'live', sourcePower: null, sourcePowerError: 'VM not found', missingConfig: ['templateId'] }))).toEqual([
      'error:source_unreachable',
      'error:config_missing',
    ]);
    expect(codes(good({ kind: 'live', sourcePower: 'poweredOn' }))).toEqual([]);
    const mappings = [{ vmContextId: 'c', sourceNetwork: 'LAN', liveNetworkId: null, testNetworkId: 'n-test' }];
    expect(codes(good({ kind: 'live', sourcePower: 'poweredOn', mappings }))).toEqual(['error:nic_unmapped:LAN', 'error:nic_unmapped:DMZ']);
  });

  it('an override covers only the errors it names', () => {
    const findings = validateFailover(good({ activeJobId: 'job-9', offering: { name: 'S', cpunumber: 1, memory: 1 } }));
    expect(uncovered(findings, ['job_running']).map(findingRef)).toEqual(['offering_too_small']);
    expect(uncovered(findings, ['job_running:job-9', 'offering_too_small'])).toEqual([]);
    expect(uncovered(findings, ['job_running:job-1']).map(findingRef)).toEqual(['job_running:job-9', 'offering_too_small']);
  });
});

describe('boot disk and attach order', () => {
  it('puts the boot disk first and the rest in VMware disk order', () => {
    const disks = [
      { diskKey: 'disk-2002', unitNumber: 2 },
      { diskKey: 'disk-2000', unitNumber: 0 },
      { diskKey: 'disk-2001', unitNumber: 1 },
    ];
    const o = attachOrder(disks, 'disk-2001');
    expect([o.root.diskKey, ...o.data.map((d) => d.diskKey)]).toEqual(['disk-2001', 'disk-2000', 'disk-2002']);
    expect(resolveBootDisk([{ diskKey: 'disk-16000', unitNumber: 3 }], null)).toEqual({ diskKey: 'disk-16000', how: 'only_disk' });
  });
});
