// `npm run lab` with an Electron binary: the desktop console over the lab's core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runConsoleApp } from '../../main/electron/console-app';
import { startLab, type Lab } from './lab-setup';

// The lab never opens the operator's data directory: the app's userData (its data directory, log,
// owner lock and single-instance lock) is a temporary folder removed when the lab quits.
const labData = fs.mkdtempSync(path.join(os.tmpdir(), 'mkc-lab-app-'));
process.env.MKC_DATA_DIR = labData;

let lab: Lab | null = null;
runConsoleApp({
  title: 'MigrateKit Console — embedded lab',
  ownerName: 'the embedded lab (desktop)',
  createCore: async ({ dataDir, owner }) => {
    lab = await startLab({ extraVms: 40, shell: { dataDir, owner } });
    return lab.core;
  },
  afterClose: async () => {
    await lab?.close();
    fs.rmSync(labData, { recursive: true, force: true });
  },
});
