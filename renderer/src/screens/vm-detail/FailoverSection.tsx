import { useEffect, useState } from 'react';
import type { VmContextSummary, VmDisk } from '../../../../shared/domain';
import type { AppErrorShape } from '../../../../shared/errors';
import { findingRef, type Failover, type FailoverValidation } from '../../../../shared/failover';
import { useInvoke } from '../../lib/use-invoke';
import { api } from '../../transport/api';
import { StatusBadge } from '../../components/StatusBadge';
import { ErrorBox } from '../../components/ErrorBox';
import { formatTime } from '../../lib/format';

// Test and live failover from the VM panel: network mapping (test and live) and boot disk, validation findings, start (with
// a recorded override when errors block), live status through the phases, boot evidence, rollback.

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
    </div>
  );
}

export function FailoverSection({ context, disks }: { context: VmContextSummary; disks: VmDisk[] }) {
  const { latest, reload, error: listError } = useFailovers(context);
  const [validation, setValidation] = useState<FailoverValidation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [ports, setPorts] = useState('');
  const [overrideBy, setOverrideBy] = useState('');
  const [override, setOverride] = useState(false);
  const [kind, setKind] = useState<'test' | 'live'>('test');
  const [confirmName, setConfirmName] = useState('');

  const validate = async () => {
    setBusy(true);
    const r = await api().invoke('failover:validate', { contextId: context.id, kind });
    setBusy(false);
    if (r.ok) setValidation(r.value);
    else setError(r.error);
  };
  const portList = ports
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  const portsValid = portList.every((p) => Number.isInteger(p) && p > 0 && p < 65536);
  const errors = validation?.findings.filter((f) => f.severity === 'error') ?? [];
  const canStart =
    validation !== null &&
    validation.kind === kind &&
    portsValid &&
    (kind === 'test' || confirmName === context.name) &&
    (errors.length === 0 || (override && overrideBy.trim() !== ''));
  const start = async () => {
    setBusy(true);
    setError(null);
    const r = await api().invoke('failover:start', {
      contextId: context.id,
      kind,
      ...(kind === 'live' ? { confirmName } : {}),
      ...(portList.length ? { ports: portList } : {}),
      ...(errors.length ? { override: { by: overrideBy.trim(), findings: errors.map(findingRef) } } : {}),
    });
    setBusy(false);
    if (!r.ok) setError(r.error);
    setValidation(null);
    setOverride(false);
    reload();
  };
  const rollback = async (id: string) => {
    setBusy(true);
    setError(null);
    const r = await api().invoke('failover:rollback', { failoverId: id });
    setBusy(false);
    if (!r.ok) setError(r.error);
    reload();
  };

  const open = latest && latest.status !== 'failed' && latest.status !== 'rolled_back' ? latest : undefined;
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
          {latest.override && (
            <div className="warn-text">
              Overridden by {latest.override.by} at {formatTime(latest.override.at)}: {latest.override.findings.join(', ')}
            </div>
          )}
          <Evidence f={latest} />
          {latest.error && <div className="err-text">{latest.error}</div>}
          {open && (open.status === 'completed' || open.status === 'cleanup_required') && (
            <button type="button" className="btn" disabled={busy} onClick={() => void rollback(open.id)}>
              {open.status === 'cleanup_required' ? 'Clean up' : 'Roll back'}
            </button>
          )}
        </div>
      )}
      {listError && <ErrorBox error={listError} what="Failovers" />}
      {!open && (context.status === 'ready_for_failover' || context.status === 'failed') && (
        <>
          <Mapping context={context} disks={disks} onChange={() => setValidation(null)} />
          <div className="action-block">
            <label className="field-inline">
              Kind{' '}
              <select
                aria-label="Failover kind"
                value={kind}
                onChange={(e) => {
                  setKind(e.target.value === 'live' ? 'live' : 'test');
                  setValidation(null);
                }}
              >
                <option value="test">test (source keeps running)</option>
                <option value="live">live (powers the source off)</option>
              </select>
            </label>
            <button type="button" className="btn" disabled={busy} onClick={() => void validate()}>
              Validate {kind} failover
            </button>
          </div>
          {validation && (
            <div data-testid="failover-findings">
              {validation.findings.length === 0 ? (
                <div className="success">No findings: ready for a {validation.kind} failover.</div>
              ) : (
                <ul className="findings">
                  {validation.findings.map((f) => (
                    <li key={findingRef(f)} className={f.severity === 'error' ? 'err-text' : 'warn-text'} data-code={f.code}>
                      {f.severity}: {f.message}
                    </li>
                  ))}
                </ul>
              )}
              <label className="field-inline">
                TCP ports to check{' '}
                <input aria-label="Ports to check" value={ports} placeholder="22, 443" onChange={(e) => setPorts(e.target.value)} />
              </label>
              {errors.length > 0 && (
                <div className="override">
                  <label>
                    <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> Override {errors.length} error
                    {errors.length === 1 ? '' : 's'} (recorded with the failover)
                  </label>
                  {override && <input aria-label="Your name" placeholder="Your name" value={overrideBy} onChange={(e) => setOverrideBy(e.target.value)} />}
                </div>
              )}
              {kind === 'live' && (
                <label className="field-inline warn-text">
                  Live failover powers {context.name} off and runs a final sync. Type the VM&apos;s name to confirm{' '}
                  <input aria-label="Confirm VM name" value={confirmName} onChange={(e) => setConfirmName(e.target.value)} />
                </label>
              )}
              <button type="button" className="btn primary" disabled={busy || !canStart} onClick={() => void start()}>
                Start {kind} failover
              </button>
            </div>
          )}
        </>
      )}
      {error && <ErrorBox error={error} what="Failover" />}
    </div>
  );
}
