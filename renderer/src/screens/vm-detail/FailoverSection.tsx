import { useEffect, useState } from 'react';
import type { VmContextSummary, VmDisk } from '../../../../shared/domain';
import type { AppErrorShape } from '../../../../shared/errors';
import { FAILOVER_PHASES, type Failover, type FailoverPhase } from '../../../../shared/failover';
import { useInvoke } from '../../lib/use-invoke';
import { api } from '../../transport/api';
import { StatusBadge } from '../../components/StatusBadge';
import { ErrorBox } from '../../components/ErrorBox';
import { formatTime } from '../../lib/format';
import { vmStatusText } from '../../../../shared/status-text';
import { FailoverDialog, RollbackDialog } from './FailoverDialog';

// Test and live failover from the VM panel: network mapping (test and live) and boot disk, the failover
// dialog (type, findings, options, confirmation), live status through the phases, boot evidence, rollback.

/** Statuses in which a failover is still moving: the panel polls so its phase stays current. */
const MOVING = new Set(['pending', 'validating', 'snapshotting', 'powering_off', 'final_sync', 'creating_vm', 'starting_vm', 'rolling_back']);

function useFailovers(context: VmContextSummary) {
  const list = useInvoke('failover:list', { contextId: context.id, limit: 5 });
  const { reload } = list;
  const latest = list.result?.ok ? list.result.value[0] : undefined;
  const moving = latest !== undefined && MOVING.has(latest.status);
  useEffect(() => reload(), [context.status, context.updatedAt, reload]);
  useEffect(() => {
    if (!moving) return;
    const t = setInterval(reload, 1000);
    return () => clearInterval(t);
  }, [moving, reload]);
  return { latest, reload, error: list.result && !list.result.ok ? list.result.error : null };
}

/** One source network's CloudStack network (test or live); empty = not mapped. */
function NetworkSelect({ label, value, networks, onPick }: { label: string; value: string | null; networks: { id: string; name: string }[]; onPick: (id: string | null) => void }) {
  return (
    <select aria-label={label} value={value ?? ''} onChange={(e) => onPick(e.target.value || null)}>
      <option value="">— not mapped —</option>
      {networks.map((n) => (
        <option key={n.id} value={n.id}>
          {n.name}
        </option>
      ))}
    </select>
  );
}

function Mapping({ context, disks, onChange }: { context: VmContextSummary; disks: VmDisk[]; onChange: () => void }) {
  const view = useInvoke('failover:networks', { contextId: context.id });
  const options = useInvoke('cloudstack:options', {});
  const [error, setError] = useState<AppErrorShape | null>(null);
  const networks = options.result?.ok ? options.result.value.networks : [];
  if (!view.result) return <p className="muted">Loading mappings…</p>;
  if (!view.result.ok) return <ErrorBox error={view.result.error} what="Network mappings" />;
  const v = view.result.value;
  const save = async (p: Promise<{ ok: boolean; error?: AppErrorShape }>) => {
    const r = await p;
    setError(r.ok ? null : (r.error ?? null));
    view.reload();
    onChange();
  };
  return (
    <div className="failover-mapping" data-testid="failover-mapping">
      <table className="mini">
        <thead>
          <tr>
            <th>Source network</th>
            <th>Test network</th>
            <th>Live network</th>
          </tr>
        </thead>
        <tbody>
          {v.sourceNetworks.map((source) => (
            <tr key={source}>
              <td>{source}</td>
              <td>
                <NetworkSelect
                  label={`Test network for ${source}`}
                  value={v.mappings.find((m) => m.sourceNetwork === source)?.testNetworkId ?? null}
                  networks={networks}
                  onPick={(id) => void save(api().invoke('failover:map-network', { contextId: context.id, sourceNetwork: source, testNetworkId: id }))}
                />
              </td>
              <td>
                <NetworkSelect
                  label={`Live network for ${source}`}
                  value={v.mappings.find((m) => m.sourceNetwork === source)?.liveNetworkId ?? null}
                  networks={networks}
                  onPick={(id) => void save(api().invoke('failover:map-network', { contextId: context.id, sourceNetwork: source, liveNetworkId: id }))}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {disks.length > 1 && (
        <label className="field-inline">
          Boot disk{' '}
          <select
            aria-label="Boot disk"
            value={v.bootDisk ?? ''}
            onChange={(e) => e.target.value && void save(api().invoke('failover:boot-disk', { contextId: context.id, diskKey: e.target.value }))}
          >
            <option value="">— not chosen —</option>
            {disks.map((d) => (
              <option key={d.diskKey} value={d.diskKey}>
                {d.diskKey} {d.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {error && <ErrorBox error={error} what="Mapping" />}
    </div>
  );
}

function Evidence({ f }: { f: Failover }) {
  if (!f.evidence) return null;
  return (
    <div className="failover-evidence" data-testid="failover-evidence">
      <div>
        CloudStack reports <strong>{f.evidence.state}</strong>; IPs {f.evidence.ips.join(', ') || 'none'}
      </div>
      {f.evidence.portChecks.map((p) => (
        <div key={`${p.ip}:${p.port}`} className={p.open ? 'success' : 'err-text'}>
          {p.ip}:{p.port} {p.open ? 'open' : 'closed'} — {p.detail}
        </div>
      ))}
      {f.evidence.portChecksSkipped && <div className="muted">Port checks skipped: {f.evidence.portChecksSkipped}</div>}
      {(f.evidence.nics ?? []).map((n, i) => (
        <div key={i} className="muted mono" data-testid="failover-nic">
          NIC {i + 1}: {n.sourceNetwork} {n.sourceMac} → {n.mac ?? '?'} {n.ip ?? ''}
        </div>
      ))}
    </div>
  );
}

/** The phases a failover of this kind goes through, in order (rollback phases when it rolls back). */
function phasesOf(f: Failover): FailoverPhase[] {
  const P = FAILOVER_PHASES;
  if (f.status === 'rolling_back' || f.status === 'rolled_back') {
    return [P.removeVm, P.revert, P.deleteSnapshots, P.reattach, P.republish, ...(f.kind === 'live' ? [P.powerOn] : [])];
  }
  return [P.validate, ...(f.kind === 'live' ? [P.powerOff, P.finalSync] : []), P.snapshot, P.deploy, P.replaceRoot, P.moveVolumes, P.start, P.evidence];
}

/** Where the failover is among its phases: done, the current one, still to come. */
function Phases({ f }: { f: Failover }) {
  const phases = phasesOf(f);
  const at = f.phase ? phases.indexOf(f.phase as FailoverPhase) : -1;
  const finished = f.status === 'completed' || f.status === 'rolled_back';
  return (
    <ol className="failover-phases" data-testid="failover-phases">
      {phases.map((p, i) => {
        const state = finished || i < at ? 'done' : i === at ? (MOVING.has(f.status) ? 'current' : 'stopped') : 'todo';
        return (
          <li key={p} data-phase-state={state} className={`phase-${state}`}>
            {p}
          </li>
        );
      })}
    </ol>
  );
}

export function FailoverSection({ context, disks }: { context: VmContextSummary; disks: VmDisk[] }) {
  const { latest, reload, error: listError } = useFailovers(context);
  const [dialog, setDialog] = useState<'failover' | 'rollback' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const open = latest && latest.status !== 'failed' && latest.status !== 'rolled_back' ? latest : undefined;
  const canStart = !open && (context.status === 'ready_for_failover' || context.status === 'failed');
  return (
    <div className="failover-section" data-testid="failover-section">
      {latest && (
        <div className="failover-latest" data-testid="failover-latest" data-failover-status={latest.status}>
          <div>
            {latest.kind} failover <StatusBadge status={latest.status} /> {latest.phase && <span className="muted">· {latest.phase}</span>}
          </div>
          <div className="muted">
            {latest.vmName} · started {formatTime(latest.startedAt)}
            {latest.endedAt ? ` · ended ${formatTime(latest.endedAt)}` : ''}
          </div>
          {(MOVING.has(latest.status) || latest.status === 'completed' || latest.status === 'rolled_back') && <Phases f={latest} />}
          {latest.override && (
            <div className="warn-text">
              Overridden by {latest.override.by} at {formatTime(latest.override.at)}: {latest.override.findings.join(', ')}
            </div>
          )}
          {latest.findings
            .filter((x) => x.code === 'final_sync_skipped' || x.code === 'mac_not_kept')
            .map((x) => (
              <div key={`${x.code}:${x.subject ?? ''}`} className="warn-text">
                {x.message}
              </div>
            ))}
          <Evidence f={latest} />
          {latest.error && <div className="err-text">{latest.error}</div>}
          {open && (open.status === 'completed' || open.status === 'cleanup_required') && (
            <button type="button" className="btn" onClick={() => setDialog('rollback')}>
              {open.status === 'cleanup_required' ? 'Clean up' : 'Roll back'}
            </button>
          )}
        </div>
      )}
      {listError && <ErrorBox error={listError} what="Failovers" />}
      {/* Say why nothing can be done here yet rather than leave the section empty under its heading. */}
      {!latest && !canStart && !listError && (
        <p className="muted" data-testid="failover-unavailable">
          Failover becomes possible once {context.name} is ready for failover (after a completed sync); it is {vmStatusText(context).toLowerCase()} now.
        </p>
      )}
      {notice && <div className="muted">{notice}</div>}
      {canStart && (
        <>
          <Mapping context={context} disks={disks} onChange={() => setNotice(null)} />
          <div className="action-block">
            <button type="button" className="btn primary" onClick={() => setDialog('failover')}>
              Fail over…
            </button>
          </div>
        </>
      )}
      {dialog === 'failover' && (
        <FailoverDialog
          context={context}
          onClose={() => setDialog(null)}
          onStarted={(f) => {
            setDialog(null);
            setNotice(`Started ${f.kind} failover ${f.id}`);
            reload();
          }}
        />
      )}
      {dialog === 'rollback' && open && (
        <RollbackDialog
          failover={open}
          vmName={context.name}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            reload();
          }}
        />
      )}
    </div>
  );
}
