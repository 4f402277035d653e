// `npm run lab` without an Electron binary: the lab's core served to a browser by the dev bridge.
import path from 'node:path';
import { parseArgs } from '../../main/cli/args';
import { startDevBridge } from '../../main/devbridge/server';
import { startLab } from './lab-setup';

const args = parseArgs(process.argv.slice(2), [
  { name: 'port', type: 'number', description: 'dev bridge port on 127.0.0.1 (default: random)' },
  { name: 'vms', type: 'number', description: 'generated VMs in the simulated vCenter besides the named ones (default 40)' },
]);
const rig = await startLab(typeof args.options.vms === 'number' ? args.options.vms : 40);
await rig.core.startBackground();
const bridge = await startDevBridge({ core: rig.core, staticDir: path.resolve('dist/renderer'), port: args.options.port as number | undefined });
process.stdout.write(
  [
    'MigrateKit Console — embedded lab',
    `  simulated VMA (vCenter ${rig.vcenterHost}) and CloudStack; real sshd on 127.0.0.1:${rig.sshd.port}; nbdkit started over SSH on :${rig.nbdPort}`,
    '  appliances: lab-vma, lab-oma (host keys trusted); credential: lab-vcenter; two VMs already managed (pgtest1, web1)',
    '',
    `Open ${bridge.url}`,
    'Ctrl-C stops the lab and removes its temporary files.',
    '',
  ].join('\n'),
);
const stop = async () => {
  await bridge.close();
  await rig.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
