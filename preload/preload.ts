// Runs sandboxed: only `electron` is available at runtime, everything else is bundled in.
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './api';

contextBridge.exposeInMainWorld('mkc', createPreloadApi(ipcRenderer));
