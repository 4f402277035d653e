import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { electronAppPaths } from './app-paths';

describe('electronAppPaths', () => {
  it('puts the preload beside the main bundle and the renderer in dist/renderer', () => {
    const dir = path.resolve('/opt/MigrateKit Console/resources/app.asar/dist/electron');
    const p = electronAppPaths(dir);
    expect(p.preload).toBe(path.join(dir, 'preload.cjs'));
    expect(p.rendererIndex).toBe(path.resolve('/opt/MigrateKit Console/resources/app.asar/dist/renderer/index.html'));
    expect(p.rendererUrl).toBe(pathToFileURL(p.rendererIndex).href);
    expect(p.rendererUrl).toMatch(/^file:\/\/.*MigrateKit%20Console.*\/dist\/renderer\/index\.html$/);
  });
});
