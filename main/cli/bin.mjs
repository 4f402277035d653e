#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../../dist/core/mkc.mjs', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('mkc: the core is not built yet; run `npm run build:core` (npm ci does this for you)\n');
  process.exit(1);
}
await import(bundle.href);
