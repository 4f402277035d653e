// The console core behind the dev bridge in a child process, for the renderer benchmark: the core's
// synchronous work (the full list's SQL and JSON, the schedule plans) then does not stall the
// playwright driver in the bench process, whose clock measures navigation → first row. Reads the
// normalised VMs from the file named in MKC_RENDER_CHILD_CONFIG, seeds them as contexts, sends
// {type:'ready', url} over IPC and closes on {type:'close'} or when the parent goes away.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Core } from '../../main/core/core';
import { startDevBridge } from '../../main/devbridge/server';
import { InMemorySecretStore } from '../../main/secrets/memory-store';
import type { DiscoveredVm } from '../../shared/discovery';

export interface RenderCoreChildConfig {
  vmsFile: string;
  vcenterHost: string;
  staticDir: string;
}

export type RenderCoreChildMessage = { type: 'ready'; url: string; contexts: number } | { type: 'error'; message: string };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.MKC_RENDER_CHILD_CONFIG ?? '') as RenderCoreChildConfig;
  const send = (m: RenderCoreChildMessage) => process.send?.(m);
  const vms = JSON.parse(fs.readFileSync(config.vmsFile, 'utf8')) as DiscoveredVm[];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-bench-render-child-'));
  const core = new Core({ dataDir, transport: 'dev-bridge', secrets: new InMemorySecretStore() });
  core.db.transaction(() => {
    for (const vm of vms) core.contexts.add({ vm, vcenterHost: config.vcenterHost, credentialId: null, vmaApplianceId: null });
  })();
  const bridge = await startDevBridge({ core, staticDir: config.staticDir });
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([bridge.close()]);
    await Promise.allSettled([core.close()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'close') void close();
  });
  process.on('disconnect', () => void close());
  send({ type: 'ready', url: bridge.url, contexts: core.contexts.listEnabled().length });
}

main().catch((e: unknown) => {
  process.send?.({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});
