import { useEffect, type ReactNode } from 'react';
import type { OverviewView } from '../../../shared/contract';
import { statusText } from '../../../shared/status-text';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { uiActions } from '../store/ui-store';
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { Age, Time } from '../components/Age';
import { formatBytes, formatDuration, formatRate } from '../lib/format';

/** The operator's local midnight: "today" on this screen is the operator's day, not the core's. */
export function localMidnight(now: Date = new Date()): string {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

const openVm = (id: string) => {
  uiActions.navigate('vms');
  uiActions.selectContext(id);
};

function VmLink({ id, name }: { id: string; name: string }) {
  return (
    <button type="button" className="linkish" onClick={() => openVm(id)}>
      {name}
    </button>
  );
}

function Card({ title, children, testId, wide }: { title: string; children: ReactNode; testId: string; wide?: boolean }) {
  return (
    <section className={wide ? 'ov-card wide' : 'ov-card'} data-testid={testId} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function StateCounts({ v }: { v: OverviewView }) {
  const shown = v.vmsByState.filter((s) => s.count > 0);
  return (
    <Card title={`VMs by state (${v.totalVms})`} testId="ov-states">
      {shown.length === 0 ? (
        <p className="muted">No VMs under management yet. Add them from Discovery.</p>
      ) : (
        <ul className="ov-states">
          {shown.map((s) => (
            <li key={s.status} data-status={s.status}>
              <span className="ov-count">{s.count}</span> <StatusBadge status={s.status} />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function Attention({ v }: { v: OverviewView }) {
  return (
    <Card title={`Needs attention (${v.attention.length})`} testId="ov-attention">
      {v.attention.length === 0 ? (
        <p className="ok-text">Nothing failed. Every replica is whole.</p>
      ) : (
        <ul className="ov-list">
          {v.attention.map((a) => (
            <li key={a.vmContextId}>
              <VmLink id={a.vmContextId} name={a.name} /> <StatusBadge status={a.status} />
              <div className="err-text small">{a.problem}</div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function OldestReplicas({ v }: { v: OverviewView }) {
  return (
    <Card title={`Oldest replicas${v.overTargetCount ? ` (${v.overTargetCount} over target)` : ''}`} testId="ov-oldest">
      {v.oldestReplicas.length === 0 ? (
        <p className="muted">No replicas yet.</p>
      ) : (
        <table className="mini">
          <thead>
            <tr>
              <th>VM</th>
              <th>Replica age</th>
              <th>Target</th>
            </tr>
          </thead>
          <tbody>
            {v.oldestReplicas.map((r) => (
              <tr key={r.vmContextId} data-over-target={r.overTarget || undefined}>
                <td>
                  <VmLink id={r.vmContextId} name={r.name} />
                </td>
                <td className={r.overTarget ? 'err-text' : undefined}>
                  <Age iso={r.lastSyncAt} none="never synced" />
                </td>
                <td>{r.targetSeconds === null ? <span className="muted">none</span> : `${formatDuration(r.targetSeconds)}${r.overTarget ? ' · over' : ''}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function DataToday({ v }: { v: OverviewView }) {
  return (
    <Card title="Data replicated today" testId="ov-today">
      <div className="ov-figures">
        <div>
          <span className="ov-figure" data-testid="ov-bytes-today">{formatBytes(v.today.bytes)}</span>
          <span className="muted small">in {v.today.syncs} sync{v.today.syncs === 1 ? '' : 's'}</span>
        </div>
        <div>
          <span className="ov-figure">{v.today.averageBytesPerSync === null ? '—' : formatBytes(v.today.averageBytesPerSync)}</span>
          <span className="muted small">per sync</span>
        </div>
      </div>
      {v.recentSyncs.length > 0 && (
        <table className="mini" data-testid="ov-recent">
          <thead>
            <tr>
              <th>Latest syncs</th>
              <th>Type</th>
              <th className="num">Data</th>
              <th className="num">Took</th>
              <th>Ended</th>
            </tr>
          </thead>
          <tbody>
            {v.recentSyncs.map((s) => (
              <tr key={s.jobId}>
                <td>
                  <VmLink id={s.vmContextId} name={s.name} />
                </td>
                <td>{s.jobType}</td>
                <td className="num">{formatBytes(s.bytes)}</td>
                <td className="num">{s.durationMs === null ? '—' : formatDuration(Math.round(s.durationMs / 1000))}</td>
                {/* Today's syncs read as a time of day: the full date squeezed this column into four lines. */}
                <td className="nowrap">
                  <Time iso={s.completedAt} recent />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function Running({ v }: { v: OverviewView }) {
  return (
    <Card title={`Running jobs (${v.runningJobs.length})`} testId="ov-running">
      {v.runningJobs.length === 0 ? (
        <p className="muted">No job is running.</p>
      ) : (
        <ul className="ov-list">
          {v.runningJobs.map((j) => (
            <li key={j.jobId}>
              <VmLink id={j.vmContextId} name={j.name} /> <StatusBadge status={j.status} />
              <div className="muted small">
                {j.phase || statusText(j.status)}
                {j.totalBytes > 0 ? ` · ${formatBytes(j.bytesTransferred)} of ${formatBytes(j.totalBytes)}` : ''}
                {j.rateBps > 0 ? ` · ${formatRate(j.rateBps)}` : ''}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function NextRuns({ v }: { v: OverviewView }) {
  return (
    <Card title="Next scheduled runs" testId="ov-next">
      {!v.schedulesActive && <p className="hint">Schedules run only while the console (or its tray icon) is running.</p>}
      {v.nextRuns.length === 0 ? (
        <p className="muted">No enabled schedule.</p>
      ) : (
        <ul className="ov-list">
          {v.nextRuns.map((r) => (
            <li key={r.scheduleId}>
              <strong>{r.name}</strong> <Time iso={r.at} short /> <span className="muted small">· {r.vmCount} VM{r.vmCount === 1 ? '' : 's'}</span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

/**
 * What the fleet looks like at a glance. One read model from the core answers the whole screen; it is
 * asked again when VMs or jobs change (at most every two seconds) so the figures agree with each other.
 */
export function OverviewScreen() {
  const since = localMidnight();
  const ov = useInvoke('overview:get', { since });
  const reload = ov.reload;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const later = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        reload();
      }, 2000);
    };
    const offs = [api().on('contexts:changed', later), api().on('jobs:progress', later)];
    return () => {
      for (const off of offs) off();
      if (timer) clearTimeout(timer);
    };
  }, [reload]);
  if (!ov.result) return <p className="muted screen-pad">Loading…</p>;
  if (!ov.result.ok) return <ErrorBox error={ov.result.error} what="Overview" />;
  const v = ov.result.value;
  return (
    <div className="ov-grid" data-testid="overview" data-generated={v.generatedAt}>
      <StateCounts v={v} />
      <Attention v={v} />
      <Running v={v} />
      <DataToday v={v} />
      <OldestReplicas v={v} />
      <NextRuns v={v} />
    </div>
  );
}

