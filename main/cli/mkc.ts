import { secretStoreFromEnvironment } from '../secrets/secret-store-from-env';
import { ALL_COMMANDS } from './commands';
import { runCli } from './run-cli';
import { promptSecretOnTerminal } from './tty-prompt';

// Ctrl-C, or a service manager stopping `mkc serve`: both end the command cleanly (lock released).
const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

// `mkc --help | head`: a reader that stops early is not an error of mkc.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

const code = await runCli(process.argv.slice(2), ALL_COMMANDS, {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  env: process.env,
  secrets: (dataDir) =>
    secretStoreFromEnvironment(dataDir, process.env, {
      prompt: () => promptSecretOnTerminal('Passphrase of the MigrateKit secret store: '),
      onNote: (note) => process.stderr.write(`mkc: ${note}\n`),
    }),
  interrupted,
  stdin: async () => {
    if (process.stdin.isTTY) throw new Error('this option reads a secret from standard input: pipe it in (e.g. from a password manager)');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
});
process.exitCode = code;
