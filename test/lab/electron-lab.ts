// `npm run lab` with an Electron binary: the desktop console over the lab's core.
import { runConsoleApp } from '../../main/electron/console-app';
import { startLab } from './lab-setup';
import type { Rig } from './rig';

let rig: Rig | null = null;
runConsoleApp({
  title: 'MigrateKit Console — embedded lab',
  createCore: async () => {
    rig = await startLab(40);
    return rig.core;
  },
  afterClose: async () => {
    await rig?.close();
  },
});
