// Builds what each runtime loads: core bundles for Node (CLI, dev bridge), the Electron main and
// preload bundles, and (for `all`) the renderer through Vite.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.argv[2] ?? 'all';
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning', absWorkingDir: root };

async function core() {
  await build({
    ...common,
    entryPoints: { mkc: 'main/cli/mkc.ts', devbridge: 'main/devbridge/start.ts' },
    outdir: 'dist/core',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    packages: 'external',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await build({
    ...common,
    entryPoints: { main: 'main/electron/main.ts' },
    outdir: 'dist/electron',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    packages: 'external',
  });
  // The preload runs with sandbox: true, so it must be one CommonJS file requiring only electron.
  await build({
    ...common,
    entryPoints: { preload: 'preload/preload.ts' },
    outdir: 'dist/electron',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
  });
}

// The embedded lab (simulators + real sshd/nbdkit around a real core): development only.
async function lab() {
  await build({
    ...common,
    entryPoints: { start: 'test/lab/start.ts' },
    outdir: 'dist/lab',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    packages: 'external',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  await build({
    ...common,
    entryPoints: { 'electron-lab': 'test/lab/electron-lab.ts' },
    outdir: 'dist/lab',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    packages: 'external',
  });
}

await core();
if (target === 'lab') await lab();
if (target === 'all' || target === 'lab') {
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
}
