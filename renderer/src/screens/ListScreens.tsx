// Failovers with their evidence; an honest notice when the core says a feature is not available.
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { formatTime } from '../lib/format';

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
