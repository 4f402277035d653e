// Import boundaries live here, not in memory: shared/ is pure, renderer/ never reaches Node or
// Electron, and only the thin shell in main/electron (plus preload/) may import electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'url', 'stream', 'events', 'util', 'zlib', 'tls', 'dns', 'worker_threads'];
const pattern = (group, message) => ({ group, message });
const mainDirs = ['base', 'vma', 'cloudstack', 'ssh', 'oma', 'db', 'secrets', 'appliances', 'discovery', 'engine', 'failover', 'scheduler', 'settings', 'logbook', 'ipc', 'owner', 'core', 'cli', 'devbridge', 'electron', 'testing', 'build'];

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-results/**', 'bench-results/**', '.lab-data/**', '.dev-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'shared/ is imported by every side: no electron'),
        pattern(nodeBuiltins, 'shared/ is imported by the renderer too: no Node built-ins'),
        pattern(['react', 'react-dom', '**/main/**', '**/renderer/**', '**/preload/**'], 'shared/ depends on nothing but itself and zod'),
      ] }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'the renderer is sandboxed: talk to the core through the contract'),
        pattern(nodeBuiltins, 'the renderer has no Node'),
        pattern(['**/main/**', '**/preload/**'], 'the renderer reaches the core only through shared/contract'),
      ] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'only main/electron/* may import electron; pass facilities in through interfaces'),
        pattern(['**/renderer/**', '**/preload/**'], 'the core does not depend on UI code'),
      ] }],
    },
  },
  // Layers inside main/ point one way: base ← clients ← features ← composition root ← shells.
  // (ESLint applies the last matching no-restricted-imports, so each block repeats the electron rule.)
  {
    files: ['main/base/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'only main/electron/* may import electron; pass facilities in through interfaces'),
        pattern(['**/renderer/**', '**/preload/**'], 'the core does not depend on UI code'),
        pattern(mainDirs.filter((d) => d !== 'base').map((d) => `**/${d}/*`), 'main/base is the bottom layer: it imports only shared/ and itself'),
      ] }],
    },
  },
  {
    files: ['main/{vma,cloudstack,ssh,oma,db,secrets}/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'only main/electron/* may import electron; pass facilities in through interfaces'),
        pattern(['**/renderer/**', '**/preload/**'], 'the core does not depend on UI code'),
        pattern(['**/appliances/*', '**/discovery/*', '**/engine/*', '**/failover/*', '**/scheduler/*', '**/settings/*', '**/logbook/*', '**/ipc/*', '**/owner/*', '**/core/*', '**/cli/*', '**/devbridge/*', '**/electron/*'],
          'clients and storage are a lower layer: they never import features, the composition root or shells'),
      ] }],
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**', 'main/cli/**', 'main/devbridge/**', 'main/core/**', 'main/base/**', 'main/{vma,cloudstack,ssh,oma,db,secrets}/**', 'main/ipc/handlers/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'only main/electron/* may import electron; pass facilities in through interfaces'),
        pattern(['**/renderer/**', '**/preload/**'], 'the core does not depend on UI code'),
        pattern(['**/core/core', '**/core/core.js', '**/cli/*', '**/devbridge/*', '**/electron/*'], 'only the shells (main/electron, main/cli, main/devbridge) import the composition root; features never import shells'),
      ] }],
    },
  },
  {
    // The handler map is the composition root's face towards the transports: it reads the Core type,
    // and like every feature it never reaches into a shell.
    files: ['main/ipc/handlers/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(['electron', 'electron/*'], 'only main/electron/* may import electron; pass facilities in through interfaces'),
        pattern(['**/renderer/**', '**/preload/**'], 'the core does not depend on UI code'),
        pattern(['**/cli/*', '**/devbridge/*', '**/electron/*'], 'the handler map serves every shell and imports none'),
      ] }],
    },
  },
  {
    files: ['preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        pattern(nodeBuiltins, 'the preload runs sandboxed: electron and shared/ only'),
        pattern(['**/main/**', '**/renderer/**'], 'the preload knows the contract only'),
      ] }],
    },
  },
);
