// Builds what each runtime loads: core bundles for Node (CLI, dev bridge), the Electron main and
// preload bundles, the embedded lab (`lab`), and the renderer through Vite (`all`, `lab`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.argv[2] ?? 'all';
const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning', absWorkingDir: root };

/** ESM for plain Node; dependencies stay in node_modules (better-sqlite3 is native). */
const nodeEsm = (entryPoints, outdir) =>
  build({
    ...common,
    entryPoints,
    outdir,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    packages: 'external',
    // Bundled CommonJS dependencies call require(); ESM has none of its own.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });

/** CommonJS for Electron's main process. */
const electronCjs = (entryPoints, outdir, externals) =>
  build({
    ...common,
    entryPoints,
    outdir,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    ...(externals ? { external: externals } : { packages: 'external' }),
  });

async function core() {
  await nodeEsm({ mkc: 'main/cli/mkc.ts', devbridge: 'main/devbridge/start.ts' }, 'dist/core');
  await electronCjs({ main: 'main/electron/main.ts' }, 'dist/electron');
  // The preload runs with sandbox: true, so it must be one CommonJS file requiring only electron.
  await electronCjs({ preload: 'preload/preload.ts' }, 'dist/electron', ['electron']);
}

// The embedded lab (simulators + real sshd/nbdkit around a real core): development only.
async function lab() {
  await nodeEsm({ start: 'test/lab/start.ts' }, 'dist/lab');
  await electronCjs({ 'electron-lab': 'test/lab/electron-lab.ts' }, 'dist/lab');
}

await core();
if (target === 'lab') await lab();
if (target === 'all' || target === 'lab') {
  execFileSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
}
