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
