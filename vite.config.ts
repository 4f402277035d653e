import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The entry (renderer/src/main.tsx) sends the first requests to the core and then imports the app
 * (boot.tsx: React DOM and the VM list). A modulepreload link lets the browser fetch and compile that
 * chunk while the entry runs, instead of discovering it only when the entry's import() runs. The path
 * stays relative (base './'), so the Electron window loads it from file:// like every other chunk.
 */
function preloadBootChunk(): Plugin {
  return {
    name: 'mkc-preload-boot-chunk',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const boot = Object.values(ctx.bundle ?? {}).find((c) => c.type === 'chunk' && c.isDynamicEntry && c.moduleIds.some((id) => id.endsWith('/renderer/src/boot.tsx')));
        if (!boot) throw new Error('vite.config.ts: no chunk for renderer/src/boot.tsx to preload');
        return [{ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${boot.fileName}` }, injectTo: 'head' }];
      },
    },
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), preloadBootChunk()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // Chromium (and Electron's) support modulepreload: the polyfill would only add to the entry.
    modulePreload: { polyfill: false },
  },
});
