// Import boundaries live here, not in memory: shared/ is pure, renderer/ never reaches Node or
// Electron, and only the thin shell in main/electron (plus preload/) may import electron.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'url', 'stream', 'events', 'util', 'zlib', 'tls', 'dns', 'worker_threads'];
const pattern = (group, message) => ({ group, message });

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
