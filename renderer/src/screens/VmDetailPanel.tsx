import { useEffect, useState, type ReactNode } from 'react';
import type { CbtHistoryEntry, ReplicationJob, VmContextDetail, VmContextSummary } from '../../../shared/domain';
import type { AppErrorShape } from '../../../shared/errors';
import { useLive } from '../store/contexts-store';
import { uiActions } from '../store/ui-store';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { StatusBadge, VmStatusBadge } from '../components/StatusBadge';
import { ErrorBox } from '../components/ErrorBox';
import { Age, Time } from '../components/Age';
import { formatBytes, formatMemory, formatMs, formatTime } from '../lib/format';
import { adviceFor } from '../lib/error-advice';
import { startBlockedReason } from '../lib/start-blocked';
import { BarChart, type Bar } from '../components/Charts';
import { JobSection } from './vm-detail/JobSection';
import { replicaTornText } from '../../../shared/replica-state-text';
import { FailoverSection } from './vm-detail/FailoverSection';
import { useClock } from '../lib/clock';
import { ageStanding, formatTarget } from '../lib/vm-columns';
import { usePlans } from '../store/schedule-plans';

export { startBlockedReason };

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
          {/* Values are cut to one line; the full text is on hover. */}
          <dd title={typeof v === 'string' ? v : undefined}>{v}</dd>
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
      {blocked && started !== context.currentJobId && <div className="hint" data-testid="start-blocked">{blocked}</div>}
      {started && started === context.currentJobId && <div className="success">Started job {started}</div>}
      {error && <ErrorBox error={error} what="Replication" />}
    </div>
  );
}

/** Long identifiers stay on one line, cut in the middle-less way: the start shows, the title has it all. */
function Trunc({ text, testId }: { text: string | null; testId?: string }) {
  if (!text) return <>—</>;
  return (
    <span className="trunc mono" title={text} data-testid={testId}>
      {text}
    </span>
  );
}

/** Bytes per completed sync, oldest left, from the per-disk CBT rows summed per job. */
export function bytesPerSync(history: CbtHistoryEntry[]): Bar[] {
  const byJob = new Map<string, { bytes: number; at: string; type: string }>();
  for (const h of history) {
    const key = h.jobId ?? `row-${h.id}`;
    const prev = byJob.get(key);
    byJob.set(key, {
      bytes: (prev?.bytes ?? 0) + h.bytesTransferred,
      at: prev && prev.at > h.createdAt ? prev.at : h.createdAt,
      type: h.syncType === 'initial' || prev?.type === 'initial' ? 'initial' : 'incremental',
    });
  }
  return [...byJob.entries()]
    .sort((a, b) => a[1].at.localeCompare(b[1].at))
    .slice(-20)
    .map(([jobId, v], i) => ({
      key: jobId,
      label: `#${i + 1}`,
      value: v.bytes,
      className: v.type === 'initial' ? 'bar-initial' : 'bar-incremental',
      title: `${jobId} (${v.type}): ${formatBytes(v.bytes)} at ${formatTime(v.at)}`,
    }));
}

const jobDuration = (j: ReplicationJob): number | null =>
  j.startedAt && j.completedAt ? Date.parse(j.completedAt) - Date.parse(j.startedAt) : null;

function DetailBody({ detail }: { detail: VmContextDetail }) {
  const c = detail.context;
  const jobId = c.currentJobId ?? detail.jobs[0]?.id ?? null;
  const bars = bytesPerSync(detail.cbtHistory);
  const torn = replicaTornText(c);
  return (
    <>
      {torn && (
        <Section title="Replica">
          <div className="error-box" data-testid="replica-torn">
            {torn}
          </div>
        </Section>
      )}
      <Section title={c.currentJobId ? 'Running job' : 'Last job'}>
        {jobId ? <JobSection key={jobId} jobId={jobId} /> : <p className="muted">No replication jobs yet.</p>}
      </Section>
      <Section title="Failover">
        <FailoverSection context={c} disks={detail.disks} />
      </Section>
      {/* One failure appears once: the last job's box already shows its error with advice. */}
      {c.lastError && !c.currentJobId && c.lastError !== detail.jobs[0]?.error && (
        <Section title="Last error">
          <div className="error-box" data-testid="last-error">
            {c.lastError}
            <div className="advice">{adviceFor(c.lastError)}</div>
          </div>
        </Section>
      )}
      <Section title="Counters">
        <div className="counters" data-testid="counters">
          <div className="counter">
            <span className="counter-value">{c.totalJobs}</span>
            <span className="counter-label">total jobs</span>
          </div>
          <div className="counter ok">
            <span className="counter-value">{c.successfulJobs}</span>
            <span className="counter-label">successful</span>
          </div>
          <div className={c.failedJobs > 0 ? 'counter bad' : 'counter'}>
            <span className="counter-value">{c.failedJobs}</span>
            <span className="counter-label">failed</span>
          </div>
          <div className="counter">
            <span className="counter-value small-value" data-testid="panel-age">
              <Age iso={c.lastSuccessfulSyncAt} none="none" />
            </span>
            <span className="counter-label">replica age</span>
            <PanelAgeTarget c={c} />
          </div>
        </div>
      </Section>
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
            ['Capacity', `${formatBytes(c.totalBytes)} in ${c.diskCount} ${c.diskCount === 1 ? 'disk' : 'disks'}`],
            ['VMX version', c.specs.vmxVersion],
            ['Last discovered', <Time key="d" iso={c.lastDiscoveredAt} short />],
            ['Last sync', <Time key="s" iso={c.lastSuccessfulSyncAt} short none="never" />],
            ['Last good job', c.lastSuccessfulJobId ?? '—'],
            ['Replica', c.replicaTornJobId ? `torn by ${c.replicaTornJobId}` : c.lastSuccessfulJobId ? 'consistent (last sync completed)' : 'none yet'],
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
                <th>Volume</th>
                <th>NBD export</th>
                <th>Last change id</th>
              </tr>
            </thead>
            <tbody>
              {detail.disks.map((d) => (
                <tr key={d.id}>
                  <td className="nowrap" title={`${d.label}: ${d.vmdkPath} on ${d.datastore}`}>{d.diskKey}</td>
                  <td className="num">{formatBytes(d.capacityBytes)}</td>
                  <td>
                    <Trunc text={d.cloudstackVolumeId} />
                  </td>
                  <td>
                    <Trunc text={d.exportName} />
                  </td>
                  <td title={d.lastChangeIdAt ? `recorded ${formatTime(d.lastChangeIdAt)}` : undefined}>
                    {d.lastChangeId ? <Trunc text={d.lastChangeId} /> : <span className="muted no-change-id">none (next sync is full)</span>}
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
                  <td className="nowrap">{n.label}</td>
                  <td>{n.networkName}</td>
                  <td>{n.adapterType}</td>
                  <td className="mono nowrap">{n.macAddress}</td>
                  <td>{n.connected ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={`Job history (${detail.jobs.length})`}>
        {detail.jobs.length === 0 ? (
          <p className="muted">No replication jobs yet.</p>
        ) : (
          <table className="mini" data-testid="job-history">
            <thead>
              <tr>
                <th>Job</th>
                <th>Type</th>
                <th>Status</th>
                <th className="num">Transferred</th>
                <th className="num">Took</th>
                <th>Started</th>
              </tr>
            </thead>
            {detail.jobs.map((j) => (
              <tbody key={j.id} data-job-id={j.id}>
                <tr>
                  <td className="mono nowrap" title={j.id}>
                    …{j.id.slice(-13)}
                  </td>
                  <td className="nowrap">
                    {j.jobType} <span className="muted">· {j.trigger}</span>
                  </td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td className="num">{formatBytes(j.bytesTransferred)}</td>
                  <td className="num">{formatMs(jobDuration(j))}</td>
                  <td className="nowrap"><Time iso={j.startedAt ?? j.createdAt} short /></td>
                </tr>
                {j.error && (
                  <tr className="error-row">
                    <td colSpan={6} className="err-text">
                      {j.error}
                    </td>
                  </tr>
                )}
              </tbody>
            ))}
          </table>
        )}
      </Section>
      <Section title={`CBT history (${detail.cbtHistory.length})`}>
        {detail.cbtHistory.length === 0 ? (
          <p className="muted">No completed syncs recorded.</p>
        ) : (
          <>
            <div className="chart-title muted">Bytes per sync</div>
            <BarChart
              bars={bars}
              testId="bytes-per-sync"
              legend={[
                { className: 'bar-initial', label: 'full' },
                { className: 'bar-incremental', label: 'incremental' },
              ]}
            />
            <table className="mini" data-testid="cbt-history">
              <thead>
                <tr>
                  <th>Disk</th>
                  <th>Type</th>
                  <th>Change id</th>
                  <th className="num">Bytes</th>
                  <th className="num">Duration</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {detail.cbtHistory.map((h) => (
                  <tr key={h.id}>
                    <td className="nowrap">{h.diskKey}</td>
                    <td>{h.syncType}</td>
                    <td>
                      <Trunc text={h.changeId} />
                    </td>
                    <td className="num">{formatBytes(h.bytesTransferred)}</td>
                    <td className="num">{formatMs(h.durationMs)}</td>
                    <td className="nowrap"><Time iso={h.createdAt} short /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
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
          {summary && <VmStatusBadge context={summary} />}
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

/** The replica age against the VM's tightest group target, in words, under the panel's age counter. */
function PanelAgeTarget({ c }: { c: VmContextSummary }) {
  const now = useClock(1000);
  const target = usePlans((s) => s.byContextId[c.id]?.replicaAgeTargetSeconds ?? null);
  if (target === null) return null;
  const standing = ageStanding(c.lastSuccessfulSyncAt, target, now);
  const word = standing === 'within' ? 'within' : standing === 'near' ? 'near' : 'over';
  return (
    <span className={`age-flag age-flag-${standing === 'within' ? 'within' : standing === 'near' ? 'near' : 'over'}`} data-testid="panel-age-target">
      {word} target {formatTarget(target)}
    </span>
  );
}
