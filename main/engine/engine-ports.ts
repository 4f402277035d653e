import { AppError } from '../../shared/errors';
import type { ApplianceService } from '../appliances/appliance-service';
import type { CredentialRepository } from '../db/repositories/credentials';
import type { SecretStore } from '../secrets/secret-store';
import type { CloudStackSettings } from '../settings/cloudstack-settings';
import { OmaAppliance } from '../oma/oma-appliance';
import type { ChangeIdChannel } from './change-id-channel';
import type { OmaApplianceConfig } from '../oma/oma-config';
import type { CloudStackApi, EnginePorts, OmaApi, TargetSettings, VcenterLogin, VmaApi } from './ports';

export interface PortsDeps {
  appliances: ApplianceService;
  credentials: CredentialRepository;
  secrets: SecretStore;
  cloudstack: CloudStackSettings;
  channel: ChangeIdChannel;
}

const FORWARD_WAIT_MS = 5_000;

/** Binds the engine's ports to the real clients; everything is resolved at the time of use. */
export function createEnginePorts(deps: PortsDeps): EnginePorts {
  // One port object per appliance (the poller asks for it at every poll); the client behind it is
  // still resolved at each call.
  const vmaPorts = new Map<string, VmaApi>();
  const vma = (applianceId: string): VmaApi => {
    const known = vmaPorts.get(applianceId);
    if (known) return known;
    const client = () => deps.appliances.vma(applianceId);
    const port: VmaApi = {
      discover: async (login, filter, timeoutMs) => (await client()).discover({ ...login, ...(filter ? { filter } : {}) }, { timeoutMs }),
      replicate: async (request) => (await client()).replicate(request),
      progress: async (jobId) => {
        const r = await (await client()).progress(jobId);
        return r.found ? { found: true, progress: r.value as never } : { found: false };
      },
      status: async (jobId) => {
        const r = await (await client()).status(jobId);
        return r.found ? { found: true, status: r.value as never } : { found: false };
      },
      cleanup: async (jobId) => {
        await (await client()).cleanup({ job_id: jobId, action: 'cleanup_all' });
      },
    };
    vmaPorts.set(applianceId, port);
    return port;
  };

  const oma = (applianceId: string): OmaApi => {
    let manager: Promise<OmaAppliance> | null = null;
    const get = () => {
      manager ??= (async () => {
        const record = deps.appliances.record(applianceId);
        const settings = (record.settings.oma ?? {}) as Partial<OmaApplianceConfig>;
        return new OmaAppliance(await deps.appliances.shell(applianceId), settings);
      })();
      return manager;
    };
    const deviceWaitMs = () => Number(deps.appliances.record(applianceId).settings.deviceWaitMs ?? 60_000);
    return {
      waitForDevice: async (volumeId) => (await get()).waitForDevice(volumeId, { timeoutMs: deviceWaitMs() }),
      ensureNbdkitRunning: async () => {
        await (await get()).ensureNbdkitRunning();
      },
      publishExport: async (volumeId, devicePath) => (await (await get()).publishExport(volumeId, devicePath)).exportName,
      verifyExport: async (volumeId) => (await (await get()).verifyExport(volumeId)).sizeBytes,
      withdrawExport: async (volumeId) => (await get()).withdrawExport(volumeId),
      publishAndVerify: async (volumeId) => {
        const v = await (await get()).publishAndVerify(volumeId, { timeoutMs: deviceWaitMs() });
        return { devicePath: v.devicePath, exportName: v.exportName, sizeBytes: v.sizeBytes };
      },
    };
  };

  const cloudstack = (): CloudStackApi => {
    const client = deps.cloudstack.client();
    return {
      getVolume: async (id) => {
        try {
          return (await client.listVolumes({ id })).find((v) => v.id === id) ?? null;
        } catch (e) {
          // CloudStack answers 431 for an id it never had: the volume is not there.
          if (e instanceof AppError && e.code === 'validation') return null;
          throw e;
        }
      },
      createVolume: async (input) => client.createVolume({ name: input.name, zoneid: input.zoneId, diskofferingid: input.diskOfferingId, sizeGiB: input.sizeGiB }),
      attachVolume: async (volumeId, vmId) => {
        await client.attachVolume(volumeId, vmId);
      },
      detachVolume: async (volumeId) => {
        await client.detachVolume(volumeId);
      },
      deleteVolume: (volumeId) => client.deleteVolume(volumeId),
    };
  };

  const target = (): TargetSettings => {
    const v = deps.cloudstack.view();
    const missing = (['zoneId', 'diskOfferingId', 'omaApplianceId'] as const).filter((k) => !v[k]);
    if (!v.apiUrl || !v.hasKeys) missing.unshift('apiUrl' as never);
    if (missing.length) {
      throw new AppError('validation', `CloudStack is not fully configured (missing: ${missing.join(', ')}); complete Settings → CloudStack first`);
    }
    const omaRecord = deps.appliances.record(v.omaApplianceId!);
    const omaVmId = v.omaVmId ?? omaRecord.cloudstackVmId;
    if (!omaVmId) throw new AppError('validation', `The CloudStack VM id of OMA appliance ${omaRecord.name} is not set`);
    if (!omaRecord.nbdHost || !omaRecord.nbdPort) {
      throw new AppError('validation', `OMA appliance ${omaRecord.name} has no NBD address as the VMA reaches it (nbdHost/nbdPort)`);
    }
    return {
      zoneId: v.zoneId!,
      diskOfferingId: v.diskOfferingId!,
      omaVmId,
      omaApplianceId: omaRecord.id,
      headroomPercent: v.volumeHeadroomPercent,
      nbdHost: omaRecord.nbdHost,
      nbdPort: omaRecord.nbdPort,
    };
  };

  const login = (credentialId: string): VcenterLogin => {
    const c = deps.credentials.require(credentialId);
    const password = deps.secrets.get(c.secretRef);
    if (!password) throw new AppError('auth', `The password of vCenter credential ${c.name} is missing from the secret store`);
    return { vcenter: c.vcenterHost, username: c.username, password, datacenter: c.datacenter };
  };

  return {
    vma,
    callbackPort: (applianceId) => deps.appliances.record(applianceId).callbackPort,
    callbackUrl: async (applianceId, jobId) => {
      const record = deps.appliances.record(applianceId);
      const bound = () => {
        const f = deps.appliances.callbackForward(applianceId);
        return f?.state === 'active' && f.boundPort === record.callbackPort;
      };
      // Right after a (re)connect the forward request may still be in flight: give it a moment.
      for (let waited = 0; !bound() && waited < FORWARD_WAIT_MS; waited += 100) await new Promise((r) => setTimeout(r, 100));
      const forward = deps.appliances.callbackForward(applianceId);
      // Whoever else holds that port on the VMA would answer the copier's change-ID lookups and so
      // choose the base of the incremental: no copy starts unless the forward is ours right now.
      if (!forward || forward.state !== 'active' || forward.boundPort !== record.callbackPort) {
        const why = forward?.error ? `: ${forward.error}` : forward ? ` (forward ${forward.state})` : ' (no tunnel to it is open)';
        throw new AppError(
          'conflict',
          `This console's callback forward on ${record.name} 127.0.0.1:${record.callbackPort} is not bound${why}. ` +
            `Another process or SSH session on the VMA probably holds that port (the original appliance's tunnel, ` +
            `another console, or a stale session); free it or set another callback port for ${record.name}.`,
        );
      }
      return `http://127.0.0.1:${record.callbackPort}/${deps.channel.issue(jobId, applianceId)}`;
    },
    cloudstack,
    oma,
    target,
    login,
  };
}
