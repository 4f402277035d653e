import { describe, expect, it } from 'vitest';
import type { VmNetwork } from '../../shared/domain';
import { nicEvidence, optionFindings } from './failover-service';

const nic = (networkName: string, macAddress: string): VmNetwork => ({ label: networkName, networkName, adapterType: 'vmxnet3', macAddress, connected: true });

describe('nicEvidence', () => {
  it("pairs each source NIC with CloudStack's NIC on its mapped network, in the source order, two NICs on one network included", () => {
    const specs = { specs: { cpus: 1, memoryMb: 512, osType: 'linux', powerState: 'poweredOn' as const, vmxVersion: 'vmx-19', networks: [nic('LAN', 'aa'), nic('DMZ', 'bb'), nic('LAN', 'cc')] } };
    const vm = {
      nic: [
        { id: '1', networkid: 'net-lan', macaddress: '02:01', ipaddress: '10.0.0.1' },
        { id: '2', networkid: 'net-dmz', macaddress: '02:02', ipaddress: '10.0.1.1' },
        { id: '3', networkid: 'net-lan', macaddress: '02:03' },
      ],
    };
    expect(nicEvidence(specs, ['net-lan', 'net-dmz', 'net-lan'], vm)).toEqual([
      { sourceNetwork: 'LAN', sourceMac: 'aa', networkId: 'net-lan', mac: '02:01', ip: '10.0.0.1' },
      { sourceNetwork: 'DMZ', sourceMac: 'bb', networkId: 'net-dmz', mac: '02:02', ip: '10.0.1.1' },
      { sourceNetwork: 'LAN', sourceMac: 'cc', networkId: 'net-lan', mac: '02:03', ip: null },
    ]);
    // A NIC CloudStack does not report stays visible as unknown rather than borrowing another's.
    expect(nicEvidence(specs, ['net-lan', 'net-dmz', 'net-lan'], { nic: [vm.nic[0]!] }).map((n) => n.mac)).toEqual(['02:01', null, null]);
  });
});

describe('optionFindings', () => {
  it('warns about a skipped final sync and, per NIC, about a MAC the CloudStack API cannot keep; nothing otherwise', () => {
    expect(optionFindings({ finalSync: true, sourceOnFailure: 'power_on' }, 'web01', [nic('LAN', 'aa')])).toEqual([]);
    const f = optionFindings({ finalSync: false, keepMacAddresses: true }, 'web01', [nic('LAN', '00:50:56:00:00:01'), nic('DMZ', '00:50:56:00:00:02')]);
    expect(f.map((x) => [x.code, x.severity, x.subject ?? null])).toEqual([
      ['final_sync_skipped', 'warning', null],
      ['mac_not_kept', 'warning', 'nic0'],
      ['mac_not_kept', 'warning', 'nic1'],
    ]);
    expect(f[2]!.message).toContain('00:50:56:00:00:02');
  });
});
