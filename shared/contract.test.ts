import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  invokeRequestSchemas,
  isEventChannel,
  isInvokeChannel,
  type EventChannel,
  type EventMap,
  type InvokeChannel,
  type InvokeMap,
} from './contract';

// Compile-time checks: tsc fails (npm test runs it) if the runtime lists drift from the maps.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const invokeInSync: Equal<(typeof INVOKE_CHANNELS)[number], keyof InvokeMap> = true;
const eventInSync: Equal<(typeof EVENT_CHANNELS)[number], keyof EventMap> = true;

describe('contract', () => {
  it('keeps the runtime channel lists in step with the type maps', () => {
    expect(invokeInSync && eventInSync).toBe(true);
    expectTypeOf<(typeof INVOKE_CHANNELS)[number]>().toEqualTypeOf<InvokeChannel>();
    expectTypeOf<(typeof EVENT_CHANNELS)[number]>().toEqualTypeOf<EventChannel>();
    expect(new Set(INVOKE_CHANNELS).size).toBe(INVOKE_CHANNELS.length);
    // Every allowlisted channel has a request schema and no schema exists for an unlisted one.
    expect(Object.keys(invokeRequestSchemas).sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(INVOKE_CHANNELS).toContain('contexts:list');
    expect(EVENT_CHANNELS).toContain('jobs:progress');
  });

  it('recognises only allowlisted channels', () => {
    expect(isInvokeChannel('contexts:list')).toBe(true);
    expect(isInvokeChannel('toString')).toBe(false);
    expect(isInvokeChannel('__proto__')).toBe(false);
    expect(isInvokeChannel(42)).toBe(false);
    expect(isEventChannel('jobs:progress')).toBe(true);
    expect(isEventChannel('contexts:list')).toBe(false);
  });

  it('rejects malformed requests with readable issues', () => {
    expect(invokeRequestSchemas['contexts:get'].safeParse({ id: 'ctx-1' }).success).toBe(true);
    expect(invokeRequestSchemas['contexts:get'].safeParse({}).success).toBe(false);
    expect(invokeRequestSchemas['contexts:get'].safeParse({ id: 'x', extra: 1 }).success).toBe(false);
    expect(invokeRequestSchemas['contexts:list'].safeParse({ sneaky: true }).success).toBe(false);
    const page = invokeRequestSchemas['contexts:page'];
    expect(page.safeParse({ limit: 100 }).success).toBe(true);
    expect(page.safeParse({ offset: 200, limit: 100 }).success).toBe(true);
    for (const bad of [{}, { limit: 0 }, { limit: 1001 }, { limit: 10, offset: -1 }, { limit: 1.5 }, { limit: 10, sort: 'name' }]) {
      expect(page.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    const bad = invokeRequestSchemas['appliances:add'].safeParse({ kind: 'vma', name: 'v', host: 'h; rm -rf /', username: 'u', authMethod: 'password' });
    expect(bad.success).toBe(false);
    const paths = bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['host', 'password']));
    expect(
      invokeRequestSchemas['appliances:trust-host-key'].safeParse({ id: 'a', fingerprint: 'MD5:aa' }).success,
    ).toBe(false);
    expect(
      invokeRequestSchemas['appliances:trust-host-key'].safeParse({ id: 'a', fingerprint: `SHA256:${'A'.repeat(43)}` }).success,
    ).toBe(true);
  });
});

describe('failover start options', () => {
  const ok = (v: unknown) => invokeRequestSchemas['failover:start'].safeParse(v).success;
  const base = { contextId: 'ctx-1', kind: 'live', confirmName: 'web01' };
  it('takes the live options on a live failover only, within their ranges', () => {
    expect(ok({ ...base, powerOffTimeoutSeconds: 120, finalSync: false, sourceOnFailure: 'keep_off', keepMacAddresses: true })).toBe(true);
    expect(ok({ ...base, powerOffTimeoutSeconds: 9 })).toBe(false);
    expect(ok({ ...base, powerOffTimeoutSeconds: 1.5 })).toBe(false);
    expect(ok({ ...base, sourceOnFailure: 'reboot' })).toBe(false);
    expect(ok({ contextId: 'ctx-1', kind: 'test', finalSync: false })).toBe(false);
    expect(ok({ contextId: 'ctx-1', kind: 'test', keepMacAddresses: true })).toBe(true);
    expect(invokeRequestSchemas['failover:rollback'].safeParse({ failoverId: 'f', powerOnSource: 'yes' }).success).toBe(false);
  });
});
