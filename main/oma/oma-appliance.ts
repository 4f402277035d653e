// The OMA appliance manager: finds attached volumes by their virtio id, publishes each one as an
// nbdkit export (a link in nbdkit's export directory), keeps one nbdkit running and checks that an
// export answers before a copy uses it. nbdkit picks up new and removed links by itself, so it is
// never restarted or reloaded here: a restart would kill every running copy (lesson 13).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AppError, isAppError } from '../../shared/errors';
import { nbdkitArgv, probeAddress, resolveOmaConfig, type OmaApplianceConfig } from './oma-config';
import type { ExecResult, RemoteShell } from './remote-shell';
import { shellCommand, shellQuote } from './shell-quote';
import { deviceIdFor, exportName, nbdUrl, normalizeVolumeUuid, volumeUuidFromExportName } from './volume-naming';

export interface PublishedExport {
  exportName: string;
  volumeUuid: string;
  /** Where the link points (the by-id device path). */
  target: string;
}

export interface VerifiedExport {
  exportName: string;
  volumeUuid: string;
  devicePath: string;
  sizeBytes: number;
  /** The export's URL as seen from the appliance itself (not necessarily as the VMA reaches it). */
  localUrl: string;
}

export interface NbdkitStatus {
  pid: number;
  /** True when this call started nbdkit, false when it was already running. */
  started: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

const DEVICE_MISSING_EXIT = 3;
const NBDKIT_DOWN_EXIT = 4;
const EXPORT_UNOPENED_EXIT = 5;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new AppError('validation', `${name} must be a positive integer, got ${value}`);
  return value;
}

function tail(text: string, max = 500): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class OmaAppliance {
  readonly config: OmaApplianceConfig;
  private readonly shell: RemoteShell;
  private ensuring: Promise<NbdkitStatus> | undefined;

  constructor(shell: RemoteShell, overrides: Partial<OmaApplianceConfig> = {}) {
    this.shell = shell;
    this.config = resolveOmaConfig(overrides);
  }

  /** `<byIdDir>/virtio-<uuid20>`: the only way a volume's device is identified (lesson 12). */
  devicePathFor(volumeUuid: string): string {
    return path.posix.join(this.config.byIdDir, deviceIdFor(volumeUuid));
  }

  exportName(volumeUuid: string): string {
    return exportName(volumeUuid);
  }

  exportLinkPath(volumeUuid: string): string {
    return path.posix.join(this.config.exportsDir, exportName(volumeUuid));
  }

  /** URL of an export as the appliance itself reaches nbdkit (used for its own checks). */
  localExportUrl(volumeUuid: string): string {
    return nbdUrl(probeAddress(this.config.nbdListenAddress), this.config.nbdPort, exportName(volumeUuid));
  }

  /**
   * Waits until the attached volume's by-id link exists and resolves, and returns its path.
   * Never falls back to another device: a volume that does not show up is an error.
   */
  async waitForDevice(volumeUuid: string, options: WaitOptions = {}): Promise<string> {
    const uuid = normalizeVolumeUuid(volumeUuid);
    const timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? 60_000);
    const intervalMs = positiveInt('intervalMs', options.intervalMs ?? 500);
    const devicePath = this.devicePathFor(uuid);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.run(`check for device ${devicePath}`, shellCommand(['test', '-e', devicePath]));
      if (r.code === 0) return devicePath;
      if (r.code !== 1) {
        throw new AppError('remote_error', `OMA appliance: checking for device ${devicePath} of volume ${uuid} failed: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`, {
          volumeUuid: uuid,
          devicePath,
        });
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await sleep(Math.min(intervalMs, remaining));
    }
    const present = await this.listVirtioDevices().catch(() => null);
    throw new AppError(
      'timeout',
      `Volume ${uuid} did not appear on the OMA appliance as ${devicePath} within ${timeoutMs} ms` +
        (present === null ? '' : ` (virtio devices present: ${present.length === 0 ? 'none' : present.join(', ')})`),
      { volumeUuid: uuid, devicePath, timeoutMs, presentVirtioDevices: present },
    );
  }

  /**
   * Publishes the volume's export: atomically creates or replaces the link
   * `<exportsDir>/migration-vol-<uuid>` → device. The device must be the volume's own by-id path.
   */
  async publishExport(volumeUuid: string, devicePath: string): Promise<PublishedExport> {
    const uuid = normalizeVolumeUuid(volumeUuid);
    const expected = this.devicePathFor(uuid);
    if (devicePath !== expected) {
      throw new AppError('validation', `Device path "${String(devicePath).slice(0, 200)}" is not the by-id path of volume ${uuid} (expected ${expected})`, {
        volumeUuid: uuid,
        devicePath,
        expected,
      });
    }
    const name = exportName(uuid);
    const link = this.exportLinkPath(uuid);
    const script = [
      `${shellCommand(['test', '-e', expected])} || { echo ${shellQuote(`device ${expected} does not exist`)} >&2; exit ${DEVICE_MISSING_EXIT}; }`,
      ...this.linkLines(name, expected, link),
    ].join('\n');
    const r = await this.run(`publish export ${name}`, script);
    if (r.code === DEVICE_MISSING_EXIT) {
      throw new AppError('not_found', `Cannot publish export ${name}: device ${expected} of volume ${uuid} does not exist on the OMA appliance`, {
        volumeUuid: uuid,
        exportName: name,
        devicePath: expected,
      });
    }
    if (r.code !== 0) {
      throw new AppError('remote_error', `Publishing export ${name} (link ${link} → ${expected}) failed: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`, {
        volumeUuid: uuid,
        exportName: name,
      });
    }
    return { exportName: name, volumeUuid: uuid, target: expected };
  }

  /** Removes the volume's export link; nothing happens when it is already gone. */
  async withdrawExport(volumeUuid: string): Promise<void> {
    const uuid = normalizeVolumeUuid(volumeUuid);
    const link = this.exportLinkPath(uuid);
    await this.runOk(`withdraw export ${exportName(uuid)}`, this.priv(['rm', '-f', '--', link]));
  }

  /** Export links present in the export directory (what is published, whether or not it serves). */
  async listExports(): Promise<PublishedExport[]> {
    const glob = `${shellQuote(this.config.exportsDir)}/migration-vol-*`;
    const script = `for f in ${glob}; do [ -L "$f" ] || continue; printf '%s\\t%s\\n' "\${f##*/}" "$(readlink -- "$f")"; done`;
    const out = await this.runOk('list export links', script);
    const result: PublishedExport[] = [];
    for (const line of out.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const name = line.slice(0, tab);
      const volumeUuid = volumeUuidFromExportName(name);
      if (volumeUuid !== null) result.push({ exportName: name, volumeUuid, target: line.slice(tab + 1) });
    }
    return result.sort((a, b) => a.exportName.localeCompare(b.exportName));
  }

  /** Export names nbdkit currently serves, as `nbdinfo --list` reports them. */
  async listServedExports(): Promise<string[]> {
    const url = nbdUrl(probeAddress(this.config.nbdListenAddress), this.config.nbdPort, '');
    const r = await this.run('list NBD exports', shellCommand([this.config.nbdinfoBinary, '--list', '--json', url.replace(/\/$/, '')]));
    if (r.code !== 0) {
      throw new AppError('remote_error', `nbdkit on the OMA appliance (${this.nbdAddress()}) does not answer: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`, {
        address: this.nbdAddress(),
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.stdout);
    } catch {
      throw new AppError('remote_error', `nbdinfo --list on the OMA appliance printed something that is not JSON: ${tail(r.stdout, 200)}`);
    }
    const exports = (parsed as { exports?: unknown }).exports;
    if (!Array.isArray(exports)) throw new AppError('remote_error', 'nbdinfo --list output has no exports array');
    return exports
      .map((e: unknown) => (e as Record<string, unknown>)['export-name'])
      .filter((n): n is string => typeof n === 'string')
      .sort();
  }

  /** Pid of our nbdkit (the one serving our export directory), or null when it does not run. */
  async nbdkitPid(): Promise<number | null> {
    const script = [...this.nbdkitCheckLines(1), `echo "$pid"`].join('\n');
    const r = await this.run('check nbdkit', script);
    if (r.code === 1) return null;
    if (r.code !== 0) throw new AppError('remote_error', `Checking nbdkit on the OMA appliance failed: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`);
    const pid = Number(r.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new AppError('remote_error', `Checking nbdkit printed an invalid pid: ${tail(r.stdout, 80)}`);
    return pid;
  }

  /**
   * Makes sure nbdkit serves the export directory: starts it (detached) when it does not run and
   * leaves a running one alone. Concurrent calls share one check.
   */
  ensureNbdkitRunning(): Promise<NbdkitStatus> {
    if (this.ensuring === undefined) {
      this.ensuring = this.ensureOnce().finally(() => {
        this.ensuring = undefined;
      });
    }
    return this.ensuring;
  }

  /**
   * Checks that an export is ready for a copy: the link points at the volume's own device, nbdkit
   * lists it, and it opens with a size > 0. Returns the size.
   */
  async verifyExport(volumeUuid: string): Promise<VerifiedExport> {
    const uuid = normalizeVolumeUuid(volumeUuid);
    const name = exportName(uuid);
    const link = this.exportLinkPath(uuid);
    const devicePath = this.devicePathFor(uuid);
    const details = { volumeUuid: uuid, exportName: name, devicePath };

    const linkRead = await this.run(`read export link ${link}`, shellCommand(['readlink', '--', link]));
    if (linkRead.code !== 0) {
      throw new AppError('not_found', `Export ${name} is not published: no link ${link} on the OMA appliance`, details);
    }
    const target = linkRead.stdout.replace(/\n$/, '');
    if (target !== devicePath) {
      throw new AppError('conflict', `Export ${name} points at ${target}, not at volume ${uuid}'s device ${devicePath}`, { ...details, target });
    }

    const served = await this.listServedExports();
    if (!served.includes(name)) {
      const exists = await this.run(`check for device ${devicePath}`, shellCommand(['test', '-e', devicePath]));
      if (exists.code === 1) {
        throw new AppError('not_found', `Export ${name} is not served: its device ${devicePath} does not exist on the OMA appliance (volume detached?)`, details);
      }
      throw new AppError('remote_error', `Export ${name} is not listed by nbdkit on ${this.nbdAddress()} although ${devicePath} exists (unreadable device?)`, details);
    }

    const url = this.localExportUrl(uuid);
    const sized = await this.run(`open export ${name}`, shellCommand([this.config.nbdinfoBinary, '--size', url]));
    if (sized.code !== 0) {
      throw new AppError('remote_error', `Export ${name} is listed but does not open: ${tail(sized.stderr) || `exit ${sized.code ?? sized.signal}`}`, details);
    }
    const sizeBytes = Number(sized.stdout.trim());
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new AppError('remote_error', `Export ${name} opens but reports size "${tail(sized.stdout, 40)}" (expected > 0 bytes)`, details);
    }
    return { exportName: name, volumeUuid: uuid, devicePath, sizeBytes, localUrl: url };
  }

  /**
   * Publishes the volume's export and checks that it opens, in ONE command when everything is
   * already in place: our nbdkit runs, the device exists, and the link is created or replaced only
   * when it does not already point at the device. An incremental sync whose volumes and exports
   * exist therefore costs one SSH round trip per disk. When nbdkit is down it is started
   * (ensureNbdkitRunning), when the device is not there yet it is waited for (waitForDevice), and the
   * command runs again; an export that does not open is explained by verifyExport, so waits, starts
   * and error texts stay those of the step-by-step methods.
   */
  async publishAndVerify(volumeUuid: string, options: WaitOptions = {}): Promise<VerifiedExport & { linked: boolean }> {
    const uuid = normalizeVolumeUuid(volumeUuid);
    const name = exportName(uuid);
    const link = this.exportLinkPath(uuid);
    const devicePath = this.devicePathFor(uuid);
    const url = this.localExportUrl(uuid);
    const details = { volumeUuid: uuid, exportName: name, devicePath };
    const script = [
      ...this.nbdkitCheckLines(NBDKIT_DOWN_EXIT),
      `${shellCommand(['test', '-e', devicePath])} || exit ${DEVICE_MISSING_EXIT}`,
      `if [ "$(readlink -- ${shellQuote(link)} 2>/dev/null)" != ${shellQuote(devicePath)} ]; then`,
      ...this.linkLines(name, devicePath, link),
      'echo linked',
      'fi',
      `${shellCommand([this.config.nbdinfoBinary, '--size', url])} || exit ${EXPORT_UNOPENED_EXIT}`,
    ].join('\n');
    let linked = false;
    // At most: nbdkit down → started, device not there yet → waited for, then the command again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await this.run(`publish and check export ${name}`, script);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      linked ||= lines.includes('linked');
      if (r.code === 0) {
        const sizeText = lines.at(-1) ?? '';
        const sizeBytes = Number(sizeText.trim());
        if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
          throw new AppError('remote_error', `Export ${name} opens but reports size "${tail(sizeText, 40)}" (expected > 0 bytes)`, details);
        }
        return { exportName: name, volumeUuid: uuid, devicePath, sizeBytes, localUrl: url, linked };
      }
      if (r.code === NBDKIT_DOWN_EXIT) {
        await this.ensureNbdkitRunning();
      } else if (r.code === DEVICE_MISSING_EXIT) {
        await this.waitForDevice(uuid, options);
      } else if (r.code === EXPORT_UNOPENED_EXIT) {
        // The link is in place; the step-by-step check says why it does not open (or finds it opens now).
        return { ...(await this.verifyExport(uuid)), linked };
      } else if (r.code === 1) {
        throw new AppError('remote_error', `Publishing export ${name} (link ${link} → ${devicePath}) failed: ${tail(r.stderr) || 'exit 1'}`, details);
      } else {
        throw new AppError('remote_error', `OMA appliance: publishing and checking export ${name} failed: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`, details);
      }
    }
    // nbdkit or the device went away again between the checks: the step-by-step path says which.
    await this.ensureNbdkitRunning();
    await this.publishExport(uuid, await this.waitForDevice(uuid, options));
    return { ...(await this.verifyExport(uuid)), linked: true };
  }

  private async ensureOnce(): Promise<NbdkitStatus> {
    const existing = await this.ourServingNbdkit(this.config.commandTimeoutMs);
    if (existing !== null) return { pid: existing, started: false };
    const c = this.config;
    const start = [
      `${this.priv(['mkdir', '-p', '--', c.exportsDir, path.posix.dirname(c.pidFile)])} || exit 1`,
      // Without --foreground nbdkit binds, detaches (stdio to /dev/null) and writes the pid file.
      this.priv(nbdkitArgv(c)),
    ].join('\n');
    const r = await this.run('start nbdkit', start, c.nbdkitStartTimeoutMs);
    if (r.code !== 0) {
      // Two first syncs on one OMA appliance (separate managers, e.g. a scheduled run) may both find
      // nbdkit absent and both start it: the loser cannot bind the port. The winner then serves our
      // directory, which is all this call needs.
      // Only an nbdkit the pid file names (serving our directory) counts: whatever else holds the port
      // is not asked anything, so the start failure is reported as it is.
      const winner = await this.ourServingNbdkit(Math.min(5_000, c.nbdkitStartTimeoutMs), 1_000).catch(() => null);
      if (winner !== null) return { pid: winner, started: false };
      throw new AppError('remote_error', `Starting nbdkit on the OMA appliance (${this.nbdAddress()}) failed: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`, {
        address: this.nbdAddress(),
      });
    }
    await this.waitUntilServing(c.nbdkitStartTimeoutMs);
    const pid = await this.nbdkitPid();
    if (pid === null) throw new AppError('remote_error', `nbdkit answers on ${this.nbdAddress()} but its pid file ${c.pidFile} does not name it`);
    return { pid, started: true };
  }

  /**
   * Our nbdkit (the one our pid file names) once it answers on its port, or null when no pid file names
   * one within `pidWaitMs` (a start that won a race may not have written it yet).
   */
  private async ourServingNbdkit(serveTimeoutMs: number, pidWaitMs = 0): Promise<number | null> {
    const deadline = Date.now() + pidWaitMs;
    let pid = await this.nbdkitPid();
    while (pid === null && Date.now() < deadline) {
      await sleep(100);
      pid = await this.nbdkitPid().catch(() => null);
    }
    if (pid === null) return null;
    await this.waitUntilServing(serveTimeoutMs);
    return pid;
  }

  private async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.listServedExports();
        return;
      } catch (e) {
        if (Date.now() >= deadline) {
          throw new AppError('timeout', `nbdkit on the OMA appliance did not answer on ${this.nbdAddress()} within ${timeoutMs} ms: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      await sleep(100);
    }
  }

  private async listVirtioDevices(): Promise<string[]> {
    const out = await this.runOk('list by-id devices', `ls -1A -- ${shellQuote(this.config.byIdDir)}`);
    return out.split('\n').filter((n) => n.startsWith('virtio-')).sort();
  }

  private nbdAddress(): string {
    return `${probeAddress(this.config.nbdListenAddress)}:${this.config.nbdPort}`;
  }

  /** Shell lines that leave our nbdkit's pid in $pid, or exit with `failCode` when it does not run. */
  private nbdkitCheckLines(failCode: number): string[] {
    return [
      `pid=$(cat -- ${shellQuote(this.config.pidFile)} 2>/dev/null) || exit ${failCode}`,
      `case "$pid" in ''|*[!0-9]*) exit ${failCode};; esac`,
      // The pid must still be nbdkit serving our directory (a stale pid file may name a reused pid).
      `tr '\\000' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -e ${shellQuote(`dir=${this.config.exportsDir}`)} || exit ${failCode}`,
    ];
  }

  /** Lines that atomically create or replace `link` → `device` (a unique temporary name, then mv). */
  private linkLines(name: string, device: string, link: string): string[] {
    // A unique temporary name, so concurrent publishes of the same volume cannot collide.
    const tmp = path.posix.join(this.config.exportsDir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    return [
      `${this.priv(['mkdir', '-p', '--', this.config.exportsDir])} || exit 1`,
      `${this.priv(['ln', '-sfn', '--', device, tmp])} || exit 1`,
      `${this.priv(['mv', '-Tf', '--', tmp, link])} || { ${this.priv(['rm', '-f', '--', tmp])}; exit 1; }`,
    ];
  }

  private priv(argv: string[]): string {
    return shellCommand([...this.config.privilegePrefix, ...argv]);
  }

  private async run(what: string, command: string, timeoutMs = this.config.commandTimeoutMs): Promise<ExecResult> {
    try {
      return await this.shell.exec(command, { timeoutMs });
    } catch (e) {
      if (isAppError(e)) throw e;
      throw new AppError('unreachable', `OMA appliance: could not ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async runOk(what: string, command: string): Promise<string> {
    const r = await this.run(what, command);
    if (r.code !== 0) throw new AppError('remote_error', `OMA appliance: could not ${what}: ${tail(r.stderr) || `exit ${r.code ?? r.signal}`}`);
    return r.stdout;
  }
}
