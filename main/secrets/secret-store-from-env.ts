import fs from 'node:fs';
import path from 'node:path';
import { EncryptedFileSecretStore, ENCRYPTED_SECRETS_FILE_NAME, type EncryptedFileStoreOptions, type SecretKeySource } from './encrypted-file-store';

export const SECRET_KEY_ENV = 'MKC_SECRET_KEY';
export const SECRET_KEY_FILE_ENV = 'MKC_SECRET_KEY_FILE';

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

/** The secret store of the headless core (CLI, dev bridge): `<dataDir>/secrets.enc.json`. */
export function secretStoreFromEnvironment(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: EncryptedFileStoreOptions = {},
): EncryptedFileSecretStore {
  return new EncryptedFileSecretStore(path.join(dataDir, ENCRYPTED_SECRETS_FILE_NAME), secretKeySourceFromEnvironment(env), options);
}
