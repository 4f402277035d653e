import fs from 'node:fs';
import path from 'node:path';
import type { SecretKeySource } from './encrypted-file-store';
import type { DataKeySecretStore } from './data-key-store';
import { openSecretStore } from './open-secret-store';

import { SECRET_KEY_ENV, SECRET_KEY_FILE_ENV } from './secret-key-env';

export { SECRET_KEY_ENV, SECRET_KEY_FILE_ENV };

const HOW_TO =
  `Set ${SECRET_KEY_ENV} to a passphrase, or ${SECRET_KEY_FILE_ENV} to the path of a file that contains one ` +
  `(readable only by you, e.g. chmod 600). Use the same key every time: it encrypts the stored passwords and keys.`;

// The passphrase is taken out of process.env once read, so child processes the core spawns (ssh,
// nbdkit, qemu-img, ...) never inherit it; later calls in this process reuse the remembered value.
let rememberedProcessKey: string | undefined;

function readKeyFile(file: string): SecretKeySource {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { kind: 'missing', reason: `Cannot read the secret key file named by ${SECRET_KEY_FILE_ENV} (${file}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. ${HOW_TO}` };
  }
  // `echo key > file` adds a newline that is not part of the key.
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase.length === 0) return { kind: 'missing', reason: `The secret key file ${file} is empty. ${HOW_TO}` };
  return { kind: 'passphrase', passphrase, origin: `the key file ${file}` };
}

/** Decides where the secret key comes from, without ever logging or returning it in a message. */
export function secretKeySourceFromEnvironment(env: NodeJS.ProcessEnv = process.env): SecretKeySource {
  let passphrase = env[SECRET_KEY_ENV];
  if (env === process.env) {
    if (passphrase !== undefined) {
      rememberedProcessKey = passphrase;
      delete process.env[SECRET_KEY_ENV];
    } else {
      passphrase = rememberedProcessKey;
    }
  }
  const keyFile = env[SECRET_KEY_FILE_ENV];
  if (passphrase !== undefined && passphrase !== '' && keyFile) {
    return { kind: 'missing', reason: `Both ${SECRET_KEY_ENV} and ${SECRET_KEY_FILE_ENV} are set; set only one so it is clear which key encrypts the secrets.` };
  }
  if (keyFile) return readKeyFile(path.resolve(keyFile));
  if (passphrase === undefined) return { kind: 'missing', reason: `No secret key is configured, so passwords and keys cannot be stored. ${HOW_TO}` };
  if (passphrase === '') return { kind: 'missing', reason: `${SECRET_KEY_ENV} is set but empty. ${HOW_TO}` };
  return { kind: 'passphrase', passphrase, origin: SECRET_KEY_ENV };
}

/**
 * The data directory's secret store as a headless process (CLI, dev bridge) opens it: with the
 * passphrase from the environment and, when given, a terminal prompt.
 */
export function secretStoreFromEnvironment(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { scryptN?: number; prompt?: () => string | null; onNote?: (note: string) => void } = {},
): DataKeySecretStore {
  const { store, notes } = openSecretStore(dataDir, {
    passphrase: secretKeySourceFromEnvironment(env),
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...(options.scryptN ? { scryptN: options.scryptN } : {}),
  });
  for (const n of notes) options.onNote?.(n);
  return store;
}
