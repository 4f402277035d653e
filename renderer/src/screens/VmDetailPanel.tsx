import { FAILOVER_BUSY_STATUSES } from '../../../shared/domain';
import { useEffect, useState, type ReactNode } from 'react';
import type { VmContextDetail, VmContextStatus, VmContextSummary } from '../../../shared/domain';
import type { AppErrorShape } from '../../../shared/errors';
import { useLive } from '../store/contexts-store';
import { uiActions } from '../store/ui-store';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { StatusBadge } from '../components/StatusBadge';
import { ErrorBox } from '../components/ErrorBox';
import { formatAge, formatBytes, formatMemory, formatMs, formatTime } from '../lib/format';

// Failover owns the VM in these statuses (the same list the core's conflict rule uses).
const FAILOVER_STATES: readonly VmContextStatus[] = FAILOVER_BUSY_STATUSES;

/** Why a sync cannot start right now, or null when it can. */
export function startBlockedReason(c: VmContextSummary): string | null {
  if (c.currentJobId) return `Job ${c.currentJobId} is already running for this VM.`;
  if (FAILOVER_STATES.includes(c.status)) return `The VM is ${c.status.replace(/_/g, ' ')}; replication is not possible in this state.`;
  if (!c.enabled) return 'This VM is disabled.';
  return null;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel-section">
      <h3>{title}</h3>
      {children}
    </section>
  );
}

function KeyValues({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function StartReplication({ context }: { context: VmContextSummary }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const blocked = startBlockedReason(context);
  const start = async () => {
    setBusy(true);
    setError(null);
    setStarted(null);
    const r = await api().invoke('replication:start', { contextId: context.id });
    setBusy(false);
    if (r.ok) setStarted(r.value.jobId);
    else setError(r.error);
  };
  return (
    <div className="action-block">
      <button type="button" className="btn primary" disabled={busy || blocked !== null} onClick={() => void start()}>
        {busy ? 'Starting…' : 'Start replication'}
      </button>
      {blocked && <div className="hint" data-testid="start-blocked">{blocked}</div>}
      {started && <div className="success">Started job {started}</div>}
      {error && <ErrorBox error={error} what="Replication" />}
    </div>
  );
}

function DetailBody({ detail }: { detail: VmContextDetail }) {
  const c = detail.context;
  return (
    <>
      <Section title="Specs">
        <KeyValues
          rows={[
            ['Path', c.path],
            ['Datacenter', c.datacenter],
            ['vCenter', c.vcenterHost],
            ['VMware id', c.vmwareVmId],
            ['CPU', `${c.specs.cpus} vCPU`],
            ['Memory', formatMemory(c.specs.memoryMb)],
            ['Guest OS', c.specs.osType],
            ['Power', c.specs.powerState],
            ['VMX version', c.specs.vmxVersion],
            ['Last discovered', formatTime(c.lastDiscoveredAt)],
            ['Replica age', c.lastSuccessfulSyncAt ? formatAge(c.lastSuccessfulSyncAt) : 'no replica yet'],
          ]}
        />
      </Section>
      <Section title={`Disks (${detail.disks.length})`}>
        {detail.disks.length === 0 ? (
          <p className="muted">No disks recorded.</p>
        ) : (
          <table className="mini" data-testid="detail-disks">
            <thead>
              <tr>
                <th>Key</th>
                <th>Size</th>
                <th>Datastore</th>
                <th>Volume</th>
                <th>Export</th>
                <th>Last change id</th>
              </tr>
            </thead>
            <tbody>
              {detail.disks.map((d) => (
                <tr key={d.id}>
                  <td className="nowrap" title={d.vmdkPath}>{d.diskKey}</td>
                  <td className="num">{formatBytes(d.capacityBytes)}</td>
                  <td>{d.datastore}</td>
                  <td className="mono">{d.cloudstackVolumeId ?? '—'}</td>
                  <td className="mono">{d.exportName ?? '—'}</td>
                  <td className="mono" title={d.lastChangeIdAt ? `recorded ${formatTime(d.lastChangeIdAt)}` : undefined}>
                    {d.lastChangeId ?? <span className="muted no-change-id">none (next sync is full)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={`Networks (${c.specs.networks.length})`}>
        {c.specs.networks.length === 0 ? (
          <p className="muted">No network adapters.</p>
        ) : (
          <table className="mini">
            <thead>
              <tr>
                <th>Adapter</th>
                <th>Network</th>
                <th>Type</th>
                <th>MAC</th>
                <th>Connected</th>
              </tr>
            </thead>
            <tbody>
              {c.specs.networks.map((n) => (
                <tr key={`${n.label}-${n.macAddress}`}>
                  <td>{n.label}</td>
                  <td>{n.networkName}</td>
                  <td>{n.adapterType}</td>
                  <td className="mono">{n.macAddress}</td>
                  <td>{n.connected ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Counters">
        <KeyValues
          rows={[
            ['Total jobs', c.totalJobs],
            ['Successful', c.successfulJobs],
            ['Failed', c.failedJobs],
            ['Last successful job', c.lastSuccessfulJobId ?? '—'],
          ]}
        />
      </Section>
      <Section title="Last error">
        {c.lastError ? <div className="error-box">{c.lastError}</div> : <p className="muted">None.</p>}
      </Section>
      <Section title={`Job history (${detail.jobs.length})`}>
        {detail.jobs.length === 0 ? (
          <p className="muted">No replication jobs yet.</p>
        ) : (
          <table className="mini">
            <thead>
              <tr>
                <th>Job</th>
                <th>Type</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Transferred</th>
                <th>Started</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {detail.jobs.map((j) => (
                <tr key={j.id}>
                  <td className="mono">{j.id}</td>
                  <td>{j.jobType}</td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>{j.trigger}</td>
                  <td className="num">{formatBytes(j.bytesTransferred)}</td>
                  <td>{formatTime(j.startedAt ?? j.createdAt)}</td>
                  <td className="err-text">{j.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={`CBT history (${detail.cbtHistory.length})`}>
        {detail.cbtHistory.length === 0 ? (
          <p className="muted">No completed syncs recorded.</p>
        ) : (
          <table className="mini">
            <thead>
              <tr>
                <th>Disk</th>
                <th>Type</th>
                <th>Change id</th>
                <th>Bytes</th>
                <th>Duration</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {detail.cbtHistory.map((h) => (
                <tr key={h.id}>
                  <td>{h.diskKey}</td>
                  <td>{h.syncType}</td>
                  <td className="mono">{h.changeId ?? '—'}</td>
                  <td className="num">{formatBytes(h.bytesTransferred)}</td>
                  <td className="num">{formatMs(h.durationMs)}</td>
                  <td>{formatTime(h.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

export function VmDetailPanel({ id }: { id: string }) {
  const summary = useLive((s) => s.contextsById[id]);
  const detail = useInvoke('contexts:get', { id });
  const { reload } = detail;
  const version = summary ? `${summary.updatedAt}|${summary.currentJobId}|${summary.status}` : '';
  // Refetch the detail when the live summary says the context changed.
  const [seenVersion, setSeenVersion] = useState(version);
  useEffect(() => {
    if (version !== seenVersion) {
      setSeenVersion(version);
      reload();
    }
  }, [version, seenVersion, reload]);
  return (
    <aside className="detail-panel" data-testid="detail-panel" aria-label="VM detail">
      <div className="panel-head">
        <div>
          <div className="panel-title">{summary?.name ?? id}</div>
          {summary && <StatusBadge status={summary.status} />}
        </div>
        <button type="button" className="btn ghost" aria-label="Close detail" onClick={() => uiActions.selectContext(null)}>
          ✕
        </button>
      </div>
      {summary && <StartReplication context={summary} />}
      <div className="panel-body">
        {detail.result === null ? (
          <p className="muted">Loading…</p>
        ) : detail.result.ok ? (
          <DetailBody detail={detail.result.value} />
        ) : (
          <ErrorBox error={detail.result.error} />
        )}
      </div>
    </aside>
  );
}
