// The Failover screen: every failover with its phase, options, override, warnings and boot evidence
// (a row opens its details), and the bulk network mapping editor (one source network name mapped to
// CloudStack networks on every VM that has a NIC on it).
import { Fragment, useEffect, useMemo, useState } from 'react';
import type { AppErrorShape } from '../../../shared/errors';
import { FAILOVER_WORKING_STATUSES, type Failover } from '../../../shared/failover';
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { formatTime } from '../lib/format';
import { api } from '../transport/api';

function optionsText(f: Failover): string {
  const o = f.options;
  const parts: string[] = [];
  if (f.kind === 'live') {
    if (o.powerOffTimeoutSeconds !== undefined) parts.push(`power-off forced after ${o.powerOffTimeoutSeconds} s`);
    parts.push(o.finalSync === false ? 'no final sync' : 'final sync');
    parts.push(o.sourceOnFailure === 'keep_off' ? 'source left off on failure' : 'source powered on on failure');
    if (o.rollbackPowerOn !== undefined) parts.push(o.rollbackPowerOn ? 'rollback powers the source on' : 'rollback leaves the source off');
  }
  if (o.keepMacAddresses) parts.push('MAC addresses asked for');
  if (f.ports.length) parts.push(`ports ${f.ports.join(', ')}`);
  return parts.join(' · ') || 'defaults';
}

function FailoverDetails({ f }: { f: Failover }) {
  const e = f.evidence;
  return (
    <div className="failover-details" data-testid="failover-details">
      <div>
        <strong>Options:</strong> {optionsText(f)}
      </div>
      {f.override && (
        <div className="warn-text">
          Errors overridden by {f.override.by} at {formatTime(f.override.at)}: {f.override.findings.join(', ')}
        </div>
      )}
      {f.findings.filter((x) => x.severity === 'warning').map((x) => (
        <div key={`${x.code}:${x.subject ?? ''}`} className="warn-text">
          warning: {x.message}
        </div>
      ))}
      {e ? (
        <div data-testid="failover-evidence">
          <div>
            Boot evidence at {formatTime(e.observedAt)}: CloudStack reports <strong>{e.state}</strong>; IPs {e.ips.join(', ') || 'none'}
          </div>
          {e.portChecks.map((p) => (
            <div key={`${p.ip}:${p.port}`} className={p.open ? 'success' : 'err-text'}>
              {p.ip}:{p.port} {p.open ? 'open' : 'closed'} — {p.detail}
            </div>
          ))}
          {e.portChecksSkipped && <div className="muted">Port checks skipped: {e.portChecksSkipped}</div>}
          {(e.nics ?? []).length > 0 && (
            <table className="mini">
              <thead>
                <tr>
                  <th>NIC</th>
                  <th>Source network</th>
                  <th>Source MAC</th>
                  <th>CloudStack MAC</th>
                  <th>IP</th>
                </tr>
              </thead>
              <tbody>
                {(e.nics ?? []).map((n, i) => (
                  <tr key={i}>
                    <td>{i + 1}</td>
                    <td>{n.sourceNetwork}</td>
                    <td className="mono">{n.sourceMac}</td>
                    <td className="mono">{n.mac ?? '?'}</td>
                    <td className="mono">{n.ip ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ) : (
        <div className="muted">No boot evidence{FAILOVER_WORKING_STATUSES.includes(f.status) ? ' yet' : ''}.</div>
      )}
      {f.error && <div className="err-text">{f.error}</div>}
    </div>
  );
}

function FailoverList() {
  const r = useInvoke('failover:list', {});
  const contextsById = useLive((s) => s.contextsById);
  const [openId, setOpenId] = useState<string | null>(null);
  const { reload } = r;
  const list = r.result?.ok ? r.result.value : [];
  const moving = list.some((f) => FAILOVER_WORKING_STATUSES.includes(f.status));
  // A failover's start and end change its VM's status; while one works its phase moves too.
  const statuses = Object.values(contextsById).map((c) => `${c.id}:${c.status}`).join(',');
  useEffect(() => reload(), [statuses, reload]);
  useEffect(() => {
    if (!moving) return;
    const t = setInterval(reload, 1000);
    return () => clearInterval(t);
  }, [moving, reload]);
  if (!r.result) return <p className="muted">Loading…</p>;
  if (!r.result.ok) return <ErrorBox error={r.result.error} what="Failover" />;
  if (list.length === 0) return <div className="empty-state small">No failovers yet. Start one from a VM&apos;s panel (Fail over…).</div>;
  return (
    <table className="grid" data-testid="failover-list" aria-label="Failovers">
      <thead>
        <tr>
          <th>VM</th>
          <th>Kind</th>
          <th>Status</th>
          <th>Phase</th>
          <th>CloudStack VM</th>
          <th>Evidence</th>
          <th>Started</th>
          <th>Ended</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {list.map((f) => (
          <Fragment key={f.id}>
            <tr className={openId === f.id ? 'selected clickable' : 'clickable'} data-failover-id={f.id} onClick={() => setOpenId(openId === f.id ? null : f.id)}>
              <td>{contextsById[f.vmContextId]?.name ?? f.vmContextId}</td>
              <td>{f.kind}</td>
              <td>
                <StatusBadge status={f.status} />
              </td>
              <td>{f.phase ?? '—'}</td>
              <td className="mono" title={f.cloudstackVmId ?? undefined}>
                {f.vmName}
              </td>
              <td>{f.evidence ? `${f.evidence.state}; ${f.evidence.ips.join(', ') || 'no IP'}` : '—'}</td>
              <td>{formatTime(f.startedAt)}</td>
              <td>{formatTime(f.endedAt)}</td>
              <td className="err-text">{f.error ?? ''}</td>
            </tr>
            {openId === f.id && (
              <tr className="details-row">
                <td colSpan={9}>
                  <FailoverDetails f={f} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}

/** Bulk mapping: a source network name to CloudStack networks, on every VM with a NIC on it. */
function BulkMapping() {
  const contextsById = useLive((s) => s.contextsById);
  const options = useInvoke('cloudstack:options', {});
  const networks = options.result?.ok ? options.result.value.networks : [];
  const sources = useMemo(() => {
    const count = new Map<string, number>();
    for (const c of Object.values(contextsById)) for (const n of new Set(c.specs.networks.map((x) => x.networkName))) count.set(n, (count.get(n) ?? 0) + 1);
    return [...count].sort((a, b) => a[0].localeCompare(b[0]));
  }, [contextsById]);
  const [picked, setPicked] = useState<Record<string, { test: string; live: string }>>({});
  const [result, setResult] = useState<{ source: string; text: string } | null>(null);
  const [error, setError] = useState<AppErrorShape | null>(null);
  if (sources.length === 0) return <div className="muted">No VM with a network adapter is managed yet.</div>;
  const apply = async (source: string) => {
    const p = picked[source] ?? { test: '', live: '' };
    setError(null);
    const r = await api().invoke('failover:map-network', {
      sourceNetwork: source,
      ...(p.test ? { testNetworkId: p.test } : {}),
      ...(p.live ? { liveNetworkId: p.live } : {}),
    });
    if (r.ok) setResult({ source, text: `${source}: mapped on ${r.value.contextIds.length} VM(s)` });
    else setError(r.error);
  };
  const select = (source: string, which: 'test' | 'live') => (
    <select
      aria-label={`${which === 'test' ? 'Test' : 'Live'} network for every VM on ${source}`}
      value={picked[source]?.[which] ?? ''}
      onChange={(e) => setPicked({ ...picked, [source]: { ...(picked[source] ?? { test: '', live: '' }), [which]: e.target.value } })}
    >
      <option value="">— leave as is —</option>
      {networks.map((n) => (
        <option key={n.id} value={n.id}>
          {n.name}
        </option>
      ))}
    </select>
  );
  return (
    <div data-testid="bulk-mapping">
      <table className="grid" aria-label="Network mapping by source network">
        <thead>
          <tr>
            <th>Source network</th>
            <th>VMs</th>
            <th>Test network</th>
            <th>Live network</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {sources.map(([source, n]) => (
            <tr key={source}>
              <td>{source}</td>
              <td>{n}</td>
              <td>{select(source, 'test')}</td>
              <td>{select(source, 'live')}</td>
              <td>
                <button type="button" className="btn small" disabled={!picked[source]?.test && !picked[source]?.live} onClick={() => void apply(source)}>
                  Map on {n} VM{n === 1 ? '' : 's'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {result && <div className="success">{result.text}</div>}
      {error && <ErrorBox error={error} what="Mapping" />}
    </div>
  );
}

export function FailoverScreen() {
  return (
    <div className="screen-pad failover-screen">
      <h2>Failovers</h2>
      <FailoverList />
      <h2>Network mapping</h2>
      <p className="muted">Maps a source network to CloudStack networks on every VM with a NIC on it. Per-VM mappings are in each VM&apos;s panel.</p>
      <BulkMapping />
    </div>
  );
}
