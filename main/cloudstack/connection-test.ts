// Tells the operator exactly what is wrong with a CloudStack configuration, one check at a time.
import type { ConnectionTestResult } from '../../shared/contract';
import { isAppError } from '../../shared/errors';
import type { CloudStackClient } from './client';
import { CloudStackError } from './errors';

type Check = ConnectionTestResult['checks'][number];

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function testConnection(client: CloudStackClient): Promise<ConnectionTestResult> {
  const checks: Check[] = [];
  const done = (): ConnectionTestResult => ({ ok: checks.every((c) => c.ok), checks });

  // listZones doubles as the reachability and authentication probe.
  let zoneCount = 0;
  try {
    zoneCount = (await client.listZones()).length;
  } catch (e) {
    if (e instanceof CloudStackError && e.httpStatus === 401) {
      checks.push({ name: 'API endpoint', ok: true, message: `${client.apiUrl} answered` });
      checks.push({
        name: 'API key and secret',
        ok: false,
        message: 'CloudStack refused the API key or the request signature (HTTP 401): check the API key and secret key',
      });
    } else if (e instanceof CloudStackError && e.errorcode === undefined) {
      checks.push({ name: 'API endpoint', ok: false, message: describe(e) });
    } else if (isAppError(e) && (e.code === 'unreachable' || e.code === 'timeout')) {
      checks.push({ name: 'API endpoint', ok: false, message: describe(e) });
    } else if (isAppError(e) && e.code === 'validation' && !(e instanceof CloudStackError)) {
      checks.push({ name: 'API key and secret', ok: false, message: describe(e) });
    } else {
      checks.push({ name: 'API endpoint', ok: true, message: `${client.apiUrl} answered` });
      checks.push({ name: 'Zones', ok: false, message: describe(e) });
    }
    return done();
  }
  checks.push({ name: 'API endpoint', ok: true, message: `${client.apiUrl} answered` });
  checks.push({ name: 'API key and secret', ok: true, message: 'Signed requests are accepted' });
  checks.push(
    zoneCount > 0
      ? { name: 'Zones', ok: true, message: `${zoneCount} zone(s) visible` }
      : { name: 'Zones', ok: false, message: 'No zones are visible to this account' },
  );

  const probe = async (name: string, run: () => Promise<Check['message'] | Error>) => {
    try {
      const outcome = await run();
      checks.push(outcome instanceof Error ? { name, ok: false, message: outcome.message } : { name, ok: true, message: outcome });
    } catch (e) {
      checks.push({ name, ok: false, message: describe(e) });
    }
  };
  await probe('Disk offerings', async () => {
    const offerings = await client.listDiskOfferings();
    if (offerings.length === 0) return new Error('No disk offerings are visible to this account');
    const custom = offerings.filter((o) => o.iscustomized).length;
    if (custom === 0) {
      return new Error(`${offerings.length} disk offering(s), but none takes a custom size; replicated volumes need one`);
    }
    return `${offerings.length} disk offering(s), ${custom} with custom size`;
  });
  await probe('Service offerings', async () => {
    const n = (await client.listServiceOfferings()).length;
    return n > 0 ? `${n} service offering(s)` : new Error('No service offerings are visible to this account');
  });
  await probe('Templates', async () => {
    const n = (await client.listTemplates('executable')).length;
    return n > 0 ? `${n} template(s)` : new Error('No executable templates are visible to this account');
  });
  await probe('Networks', async () => {
    const n = (await client.listNetworks()).length;
    return n > 0 ? `${n} network(s)` : new Error('No networks are visible to this account');
  });
  return done();
}
