// `npm test`: both type-checks, lint, the build, then every vitest project (unit, integration, e2e).
// Ends with one plain "N passed, N failed" line so any reader of the log sees the count.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const resultsDir = path.join(root, 'test-results');
fs.mkdirSync(resultsDir, { recursive: true });
const jsonFile = path.join(resultsDir, 'vitest.json');
fs.rmSync(jsonFile, { force: true });

const steps = [
  ['type-check (node side)', bin('tsc'), ['-p', 'tsconfig.node.json', '--noEmit']],
  ['type-check (web side)', bin('tsc'), ['-p', 'tsconfig.web.json', '--noEmit']],
  ['type-check (tests)', bin('tsc'), ['-p', 'tsconfig.test.json', '--noEmit']],
  ['lint', bin('eslint'), ['.', '--max-warnings=0']],
  ['build (app and lab)', process.execPath, ['main/build/build.mjs', 'lab']],
  ['tests', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...process.argv.slice(2)]],
];

let failedStep = null;
for (const [name, cmd, args] of steps) {
  process.stdout.write(`\n=== ${name}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  process.stdout.write(`=== ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (r.status !== 0) {
    failedStep = name;
    if (name !== 'tests') break;
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
if (fs.existsSync(jsonFile)) {
  const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
if (failedStep && failedStep !== 'tests') failed += 1;
process.stdout.write(`\n${failedStep ? `FAILED at: ${failedStep}\n` : ''}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failedStep || failed > 0 ? 1 : 0);
