import type { AppErrorShape, ErrorCode } from '../../../shared/errors';
import { INVOKE_CHANNELS } from '../../../shared/channels';
// Turns a job's or VM's last error into what the operator should do next. The engine's messages
// start with a stable word for the cases that need a specific action (stalled, lost, interrupted).

export function adviceFor(error: string): string {
  const e = error.toLowerCase();
  if (e.startsWith('stalled')) {
    return 'The VMA copy stopped making progress. Check the copier process and its log on the VMA appliance, then start the replication again.';
  }
  if (e.startsWith('lost')) {
    return 'The VMA no longer knows this job: it restarted or its copy process died. Start the replication again; disks with a stored change id continue incrementally.';
  }
  if (e.startsWith('interrupted')) return 'The console stopped while the job was being set up. Start the replication again.';
  if (e.includes('cancelled')) return 'The job was cancelled. Start the replication again when ready.';
  if (e.includes('cloudstack') || /\bvolume\b|async job|zone|offering|attachvolume|createvolume/.test(e)) {
    return 'Check Settings → CloudStack (API URL, keys, zone, disk offering, OMA appliance VM) and the CloudStack event log, then start again.';
  }
  if (/nbd|export|by-id|device|oma appliance/.test(e)) {
    return 'Check the OMA appliance in Settings → Appliances (tunnel ready, nbdkit running, volume devices visible), then start again.';
  }
  if (/vcenter|credential|login|password|permission/.test(e)) {
    return 'Check the vCenter credential in Settings → Credentials and that the VMA can reach vCenter, then start again.';
  }
  if (/tunnel|unreachable|ssh|host key|timed out|timeout/.test(e)) {
    return 'Check the appliance tunnels in Settings → Appliances (the header shows their state), then start again.';
  }
  if (e.includes('vma')) return 'Check the VMA appliance and its log, then start the replication again.';
  return 'Open Logs for this VM to see the full sequence of steps and events.';
}

const CHANNEL_NAMES = new RegExp(`\\b(${INVOKE_CHANNELS.map((c) => c.replace(/[-:]/g, (m) => `\\${m}`)).join('|')})\\b`, 'g');
const MAX_WHAT = 400;

/**
 * Any error an operator sees, in the shape of a replication failure: what happened, then what to do.
 * Internal channel names and transport dumps (stack traces, multi-line bodies) never reach the screen;
 * the full text stays in the application log and Logs.
 */
export function operatorError(error: AppErrorShape): { what: string; todo: string } {
  let what = error.message
    .replace(/^Invalid request for [\w-]+:[\w-]+: /, '')
    .replace(/^Refused [\w-]+:[\w-]+: /, 'Refused: ')
    .replace(/^[\w-]+:[\w-]+ failed unexpectedly; see the application log$/, 'The console hit an unexpected error while doing this.')
    .replace(CHANNEL_NAMES, 'the request');
  const firstLine = what.split(/\r?\n/)[0]!.trim();
  if (firstLine !== what.trim()) what = `${firstLine} (full detail in the application log)`;
  if (what.length > MAX_WHAT) what = `${what.slice(0, MAX_WHAT - 1)}…`;
  return { what, todo: todoFor(error.code, error.message) };
}

function todoFor(code: ErrorCode, message: string): string {
  switch (code) {
    case 'validation':
      return 'Correct the value named above and try again; nothing was changed.';
    case 'conflict':
      return 'Let the other operation finish (or cancel it), then try again.';
    case 'not_found':
      return 'It may have been removed in another window or by mkc; the lists refresh on their own.';
    case 'auth':
      return 'Check the stored password or keys in Settings, then try again.';
    case 'host_key_untrusted':
    case 'host_key_mismatch':
      return 'Compare the fingerprint with the appliance console, then trust it in Settings → Appliances.';
    case 'secret_store_unavailable':
      return 'Settings → Secret store says why it cannot store secrets; fix that first.';
    case 'internal':
      return 'The application log (its path is in Settings → Desktop) has the details; try again, and report it if it repeats.';
    case 'unreachable':
    case 'timeout':
      return /vcenter|cloudstack|nbd|export|vma|oma|credential/i.test(message)
        ? adviceFor(message)
        : 'Check the appliance tunnels in the header and Settings → Appliances, then try again.';
    default:
      return adviceFor(message);
  }
}
