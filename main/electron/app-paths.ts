import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ElectronAppPaths {
  preload: string;
  rendererIndex: string;
  /** The URL Chromium reports for the loaded renderer; IPC senders must match it. */
  rendererUrl: string;
}

/** Paths relative to the main bundle (dist/electron/main.cjs): the preload beside it, the renderer in dist/renderer. */
export function electronAppPaths(mainBundleDir: string): ElectronAppPaths {
  const electronDir = path.resolve(mainBundleDir);
  const rendererIndex = path.join(electronDir, '..', 'renderer', 'index.html');
  return {
    preload: path.join(electronDir, 'preload.cjs'),
    rendererIndex,
    rendererUrl: pathToFileURL(rendererIndex).href,
  };
}
