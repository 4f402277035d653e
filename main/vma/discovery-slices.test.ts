import { describe, expect, it } from 'vitest';
import { BodyCollector, decodeBody } from './body-text';
import { createDiscoveryParser } from './discovery-slices';
import { normaliseDiscovery } from './normalise';

// The slicing parser must give exactly what the whole-body path gives (normaliseDiscovery on
// JSON.parse of the decoded body), results and errors alike, whatever the chunking. Every case is
// run both ways and compared; the "streamed" flag shows which path the slicing parser took.

/** A small seeded generator in the VMA's shape (reference/vma-api.md), field order as the VMA sends it. */
function vmaAnswer(count: number, o: { seed?: number; name?: (i: number) => string; datacenterOf?: (i: number) => string } = {}) {
  let s = o.seed ?? 1;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const vms = Array.from({ length: count }, (_, i) => {
    const name = o.name?.(i) ?? `vm-${i}`;
    return {
      id: `id-${i}-${Math.floor(rand() * 1e9)}`,
      name,
      path: `/DC/vm/${name}`,
      datacenter: o.datacenterOf?.(i) ?? 'DC',
      power_state: ['poweredOn', 'poweredOff', 'suspended'][i % 3],
      guest_os: 'linux',
      memory_mb: 1024 * (1 + (i % 8)),
      num_cpu: 1 + (i % 4),
      cpus: 0,
      os_type: '',
      vmx_version: 'vmx-19',
      disks: Array.from({ length: 1 + (i % 3) }, (_, d) => ({
        id: `disk-${2000 + d}`,
        label: `Hard disk ${d + 1}`,
        path: `[ds1] ${name}/${name}_${d}.vmdk`,
        size_gb: 10,
        capacity_bytes: 10 * 1024 ** 3,
        datastore: 'ds1',
        provisioning_type: 'thin',
        unit_number: d,
      })),
      networks: i % 7 === 6 ? null : [{ name: '', type: '', label: 'Network adapter 1', network_name: `VLAN_${i % 5}`, adapter_type: 'vmxnet3', mac_address: '00:50:56:AA:BB:CC', connected: true }],
    };
  });
  return { vcenter: { host: 'vc.example.test', datacenter: 'DC' }, vms };
}

/** Splits `bytes` into chunks of the given sizes (cycled). */
function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

type Outcome = { ok: unknown } | { error: string; message: string };

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: run() };
  } catch (e) {
    return { error: e instanceof Error ? e.constructor.name : typeof e, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Runs the slicing parser over `body` in chunks (through the client's body collector) and the whole-body path; both outcomes. */
async function both(body: string | Buffer, o: { slice?: number; chunks?: number[] } = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const parser = createDiscoveryParser(o.slice ?? 1024);
  const collector = new BodyCollector({ onData: parser.onData });
  for (const chunk of chunked(bytes, o.chunks ?? [700, 1500, 64, 3000])) collector.add(chunk);
  const read = collector.finish();
  const sliced = outcome(() => parser.finish(read));
  const whole = outcome(() => normaliseDiscovery(JSON.parse(decodeBody(bytes))));
  return { sliced, whole, stats: parser.stats };
}

describe('createDiscoveryParser', () => {
  it('slices a large answer while it arrives and gives exactly the whole-body result', async () => {
    const body = JSON.stringify(vmaAnswer(400));
    for (const chunks of [[65_536], [97], [7, 1000, 13], [100_000]]) {
      const r = await both(body, { slice: 4096, chunks });
      expect(r.sliced).toEqual(r.whole);
      expect(r.stats.streamed).toBe(true);
    }
    const r = await both(body, { slice: 4096, chunks: [1000] });
    expect(r.stats.slicesWhileArriving).toBeGreaterThan(10);
    expect((r.sliced as { ok: { vms: unknown[] } }).ok.vms).toHaveLength(400);
  });

  it('the same with the answer in one chunk, and with slices larger than the answer', async () => {
    const body = JSON.stringify(vmaAnswer(50));
    for (const o of [{ chunks: [10_000_000] }, { slice: 10_000_000 }]) {
      const r = await both(body, o);
      expect(r.sliced).toEqual(r.whole);
      expect(r.stats.streamed).toBe(true);
    }
  });

  it('keeps warnings in order, duplicate ids, and fills the top-level datacenter in late', async () => {
    const answer = vmaAnswer(120, { datacenterOf: (i) => (i % 4 === 0 ? '' : 'DC') });
    const vms: unknown[] = answer.vms;
    vms[10] = { ...answer.vms[10]!, id: answer.vms[3]!.id, name: 'clone' };
    vms[20] = { ...answer.vms[20]!, path: '', power_state: 'POWERED' };
    vms[30] = 'junk';
    vms[40] = { ...answer.vms[40]!, disks: [{ label: 'no key' }, { id: 'disk-2000' }, { id: 'disk-2000', capacity_bytes: 5 }] };
    vms[50] = { name: 'no-id' };
    const r = await both(JSON.stringify({ vcenter: { datacenter: 'TopDC' }, vms }), { slice: 2048 });
    expect(r.sliced).toEqual(r.whole);
    expect(r.stats.streamed).toBe(true);
    const ok = (r.sliced as { ok: ReturnType<typeof normaliseDiscovery> }).ok;
    expect(ok.warnings[0]!.message).toMatch(/vCenter host/);
    expect(ok.warnings.length).toBeGreaterThan(6);
    expect(ok.vms.filter((v) => v.datacenter === 'TopDC').length).toBeGreaterThan(20);
  });

  it('strings that look like boundaries, escapes and multibyte names cut anywhere', async () => {
    const tricky = ['a]},{"id":"b', 'x\\"]},{"id":', 'zürich-€-𝄞', '\\\\', 'q","name":"p', '}],"vms":[', '\u2028'];
    const body = JSON.stringify(vmaAnswer(200, { name: (i) => `${tricky[i % tricky.length]}-${i}` }));
    for (const chunks of [[1], [3, 5, 7], [1000], [4093]]) {
      const r = await both(body, { slice: 1500, chunks });
      expect(r.sliced).toEqual(r.whole);
      expect(r.stats.streamed).toBe(true);
    }
  });

  it('boundaries guessed inside a VM (disks ending in a list, like the VM) are tried and skipped', async () => {
    // Every disk boundary then reads `]},{"id":`, the pattern learned from the first VM boundary.
    const answer = vmaAnswer(150);
    const vms = answer.vms.map((v) => ({ ...v, disks: v.disks.map((d) => ({ ...d, tags: ['a', 'b'] })), networks: [{ label: 'n', tags: [] }] }));
    for (const slice of [300, 2000]) {
      const r = await both(JSON.stringify({ ...answer, vms }), { slice, chunks: [512] });
      expect(r.sliced).toEqual(r.whole);
      expect(r.stats.streamed).toBe(true);
    }
  });

  it('a pretty-printed answer, a leading byte order mark, the list first or in the middle', async () => {
    const answer = vmaAnswer(60);
    const cases = [
      JSON.stringify(answer, null, 2),
      `\ufeff${JSON.stringify(answer)}`,
      JSON.stringify({ vms: answer.vms, vcenter: answer.vcenter }),
      JSON.stringify({ vcenter: answer.vcenter, vms: answer.vms, extra: { list: [1, 2, 3], text: 'end' } }),
      ` \n\t${JSON.stringify(answer)} \n`,
    ];
    for (const body of cases) {
      const r = await both(body, { slice: 2000 });
      expect(r.sliced).toEqual(r.whole);
      expect('ok' in r.sliced).toBe(true);
      expect(r.stats.streamed).toBe(true);
    }
  });

  it('small and empty lists, and lists of odd entries', async () => {
    for (const vms of ['[]', '[ ]', '[\n]', JSON.stringify(vmaAnswer(1).vms), '[1,2,"x",null,[],{}]', '[[{"id":"a","name":"b"}],{"id":"c","name":"d"}]']) {
      const r = await both(`{"vcenter":{"host":"h","datacenter":"d"},"vms":${vms}}`, { slice: 8 });
      expect(r.sliced).toEqual(r.whole);
      expect('ok' in r.sliced).toBe(true);
      expect(r.stats.streamed).toBe(true);
    }
  });

  it('answers of another shape take the whole-body path and end the same', async () => {
    const list = JSON.stringify(vmaAnswer(40).vms);
    const cases = [
      `{"vcenter":{"host":"h"},"vms":${list},"vms":null}`, // the last key wins in JSON.parse
      `{"vcenter":{"host":"h"},"vms":${list},"v\\u006ds":[]}`,
      `{"v\\u006ds":[],"vcenter":{"host":"h"},"vms":${list}}`,
      `{"vcenter":{"host":"h\\u0041"},"vms":${list}}`,
      `{"vcenter":{"host":"h"},"vms":null}`,
      `{"vcenter":{"host":"h"},"vms":{}}`,
      `{"vcenter":{"host":"h"},"vms":"x"}`,
      `{"vcenter":{"host":"h"}}`,
      `{"vcenter":{"host":"h"},"items":${list}}`,
      `[${list}]`,
      `{"data":{"vms":${list}}}`,
      `{"vcenter":{"host":"${'h'.repeat(70_000)}"},"vms":${list}}`,
      'null',
      '"vms"',
    ];
    for (const body of cases) {
      const r = await both(body, { slice: 512 });
      expect(r.sliced).toEqual(r.whole);
      expect(r.stats.streamed).toBe(false);
    }
  });

  it('malformed JSON fails exactly as JSON.parse of the whole body does, wherever it is', async () => {
    const good = JSON.stringify(vmaAnswer(80));
    const firstVm = good.indexOf('{"id"');
    const cases = [
      good.slice(0, -1), // no closing brace
      good.slice(0, -2) + '}', // no closing bracket
      good.slice(0, good.length / 2), // truncated mid-list
      good.replace(']}]', ']},]'), // a trailing comma after the last VM
      `${good.slice(0, firstVm)},${good.slice(firstVm)}`, // a leading comma
      good.replace('},{"id"', '},,{"id"'), // an empty element
      good.replace(/"vm-40"/, '"vm-40\u0001"'), // a raw control character in a string (JSON.stringify would escape it)
      good.replace('"vm-41"', '"vm-41'), // an unterminated string
      `${good}x`, // trailing garbage
      `${good}{}`,
      good.replace('"vcenter":{', '"vcenter":{,'),
      '',
      '{',
      '{"vms":[',
    ];
    for (const body of cases) {
      for (const slice of [64, 1024]) {
        const r = await both(body, { slice });
        expect('error' in r.whole).toBe(true);
        expect(r.sliced).toEqual(r.whole);
        expect(r.stats.streamed).toBe(false);
      }
    }
  });

  it('a non-UTF-8 byte decodes to U+FFFD as in the whole-body path', async () => {
    const body = Buffer.from(JSON.stringify(vmaAnswer(30, { name: (i) => `vm-${i}-X` })), 'latin1');
    body[body.indexOf('-X"') + 1] = 0xff;
    const r = await both(body, { slice: 512 });
    expect(r.sliced).toEqual(r.whole);
    expect(JSON.stringify(r.sliced)).toContain('\ufffd');
  });
});
