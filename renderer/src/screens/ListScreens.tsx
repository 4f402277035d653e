// Schedules and machine groups: read-only lists until their engines land; failovers with their evidence; an honest
// notice when the core says a feature is not available.
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { formatTime } from '../lib/format';

export function SchedulesScreen() {
  const r = useInvoke('schedules:list', {});
  if (!r.result) return <p className="muted screen-pad">Loading…</p>;
  if (!r.result.ok) return <div className="screen-pad"><ErrorBox error={r.result.error} what="Schedules" /></div>;
  return (
    <div className="screen-pad">
      <p className="hint block">Schedules run while the console (or its tray icon) is running.</p>
      {r.result.value.length === 0 ? (
        <div className="empty-state small">No schedules yet.</div>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Cron</th>
              <th>Timezone</th>
              <th>Enabled</th>
              <th>Catch-up</th>
              <th className="num">Max concurrent</th>
              <th>Last run</th>
              <th>Next run</th>
            </tr>
          </thead>
          <tbody>
            {r.result.value.map((s) => (
              <tr key={s.id}>
                <td>{s.name}</td>
                <td className="mono">{s.cronExpression}</td>
                <td>{s.timezone}</td>
                <td>{s.enabled ? 'yes' : 'no'}</td>
                <td>{s.catchUpPolicy}</td>
                <td className="num">{s.maxConcurrentJobs}</td>
                <td>{formatTime(s.lastRunAt)}</td>
                <td>{formatTime(s.nextRunAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function GroupsScreen() {
  const r = useInvoke('groups:list', {});
  if (!r.result) return <p className="muted screen-pad">Loading…</p>;
  if (!r.result.ok) return <div className="screen-pad"><ErrorBox error={r.result.error} what="Machine groups" /></div>;
  return (
    <div className="screen-pad">
      {r.result.value.length === 0 ? (
        <div className="empty-state small">No machine groups yet.</div>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Description</th>
              <th>Schedule</th>
              <th className="num">Max concurrent VMs</th>
              <th className="num">Priority</th>
              <th>Enabled</th>
            </tr>
          </thead>
          <tbody>
            {r.result.value.map((g) => (
              <tr key={g.id}>
                <td>{g.name}</td>
                <td>{g.description}</td>
                <td>{g.scheduleId ?? '—'}</td>
                <td className="num">{g.maxConcurrentVms}</td>
                <td className="num">{g.priority}</td>
                <td>{g.enabled ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function FailoverScreen() {
  const r = useInvoke('failover:list', {});
  const contextsById = useLive((s) => s.contextsById);
  if (!r.result) return <p className="muted screen-pad">Loading…</p>;
  if (!r.result.ok) return <div className="screen-pad"><ErrorBox error={r.result.error} what="Failover" /></div>;
  return (
    <div className="screen-pad">
      {r.result.value.length === 0 ? (
        <div className="empty-state small">No failovers yet. Start a test failover from a VM's panel.</div>
      ) : (
        <table className="grid" data-testid="failover-list">
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
            {r.result.value.map((f) => (
              <tr key={f.id}>
                <td>{contextsById[f.vmContextId]?.name ?? f.vmContextId}</td>
                <td>{f.kind}</td>
                <td>
                  <StatusBadge status={f.status} />
                </td>
                <td>{f.phase ?? '—'}</td>
                <td className="mono" title={f.cloudstackVmId ?? undefined}>{f.vmName}</td>
                <td>{f.evidence ? `${f.evidence.state}; ${f.evidence.ips.join(', ') || 'no IP'}` : '—'}</td>
                <td>{formatTime(f.startedAt)}</td>
                <td>{formatTime(f.endedAt)}</td>
                <td className="err-text">{f.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
