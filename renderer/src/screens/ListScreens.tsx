// Failover jobs: a read-only list until the failover engine lands; an honest notice when the core
// says the feature is not available.
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
        <div className="empty-state small">No failover jobs yet.</div>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>VM</th>
              <th>Type</th>
              <th>Status</th>
              <th>CloudStack VM</th>
              <th>Created</th>
              <th>Completed</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {r.result.value.map((f) => (
              <tr key={f.id}>
                <td>{contextsById[f.vmContextId]?.name ?? f.vmContextId}</td>
                <td>{f.failoverType}</td>
                <td>
                  <StatusBadge status={f.status} />
                </td>
                <td className="mono">{f.cloudstackVmId ?? '—'}</td>
                <td>{formatTime(f.createdAt)}</td>
                <td>{formatTime(f.completedAt)}</td>
                <td className="err-text">{f.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
