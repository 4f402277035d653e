// `npm run bench [-- section ...]`: builds the product (core + renderer), bundles the benchmark
// suite (test/bench) with esbuild and runs it in its own process group. The suite prints its JSON
// report on stdout and writes bench-results/latest.json; this wrapper only builds, runs and, as a
// last resort, ends whatever the suite's own teardown left in its process group.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

log('building core and renderer (node main/build/build.mjs all) …');
// Build output goes to stderr: stdout carries only the JSON report.
const b = spawnSync(process.execPath, ['main/build/build.mjs', 'all'], { cwd: root, stdio: ['ignore', 2, 2] });
if (b.status !== 0) {
  log(`build failed (exit ${b.status ?? b.signal})`);
  process.exit(1);
}

await build({
  absWorkingDir: root,
  entryPoints: { main: 'test/bench/main.ts', 'vma-sim-child': 'test/bench/vma-sim-child.ts', 'render-core-child': 'test/bench/render-core-child.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  outdir: 'dist/bench',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

// Its own process group, so that anything the suite started and failed to stop can be ended by
// group id here without touching any other process on the machine.
const child = spawn(process.execPath, ['--enable-source-maps', 'dist/bench/main.mjs', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
  env: { ...process.env, MKC_BENCH_ROOT: root },
});
const killGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
};
// On Ctrl-C or SIGTERM the suite runs its own teardown first (it stops nbdkit over SSH, closes
// Chromium); only what is still there after 30 s is killed by group.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: stopping the benchmark (teardown first)`);
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    setTimeout(() => killGroup('SIGKILL'), 30_000).unref();
  });
}
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
killGroup('SIGKILL');
process.exit(code);
