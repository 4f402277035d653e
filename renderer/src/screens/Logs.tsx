import { useEffect, useState } from 'react';
import { LOG_LEVELS, OPERATION_KINDS, type LogLevel, type OperationKind } from '../../../shared/domain';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { api } from '../transport/api';
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { formatMs, formatTime } from '../lib/format';
import { useNow } from '../lib/use-now';

/** Hands text to the browser as a file download. */
export function downloadText(filename: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function OperationDetail({ operationId }: { operationId: string }) {
  const [level, setLevel] = useState<LogLevel | ''>('');
  const steps = useInvoke('logs:steps', { operationId });
  const events = useInvoke('logs:events', { operationId, limit: 1000, ...(level ? { level } : {}) });
  const reloadSteps = steps.reload;
  const reloadEvents = events.reload;
  // A running operation keeps logging: refetch (at most every 500 ms) when its events arrive.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = api().on('logs:appended', (p) => {
      if (timer || !p.events.some((e) => e.operationId === operationId)) return;
      timer = setTimeout(() => {
        timer = null;
        reloadSteps();
        reloadEvents();
      }, 500);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [operationId, reloadSteps, reloadEvents]);
  const anyRunning = steps.result?.ok === true && steps.result.value.some((s) => s.status === 'running');
  const now = useNow(anyRunning ? 1000 : null);
  return (
    <div className="log-detail">
      <h3>Steps</h3>
      {steps.result === null ? (
        <p className="muted">Loading…</p>
      ) : !steps.result.ok ? (
        <ErrorBox error={steps.result.error} />
      ) : steps.result.value.length === 0 ? (
        <p className="muted">No steps recorded.</p>
      ) : (
        <table className="mini" data-testid="log-steps">
          <thead>
            <tr>
              <th>#</th>
              <th>Step</th>
              <th>Status</th>
              <th>Started</th>
              <th className="num">Duration</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {steps.result.value.map((s) => (
              <tr key={s.id}>
                <td className="num">{s.seq}</td>
                <td>{s.name}</td>
                <td>
                  <StatusBadge status={s.status} />
                </td>
                <td>{formatTime(s.startedAt)}</td>
                <td className="num">
                  {s.durationMs !== null ? formatMs(s.durationMs) : s.status === 'running' && s.startedAt ? `${formatMs(now - Date.parse(s.startedAt))} so far` : '—'}
                </td>
                <td className="err-text">{s.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="section-head">
        <h3>Events</h3>
        <label className="inline">
          Level
          <select value={level} onChange={(e) => setLevel(e.target.value as LogLevel | '')}>
            <option value="">all</option>
            {LOG_LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
      </div>
      {events.result === null ? (
        <p className="muted">Loading…</p>
      ) : !events.result.ok ? (
        <ErrorBox error={events.result.error} />
      ) : events.result.value.length === 0 ? (
        <p className="muted">No events{level ? ` at level ${level}` : ''}.</p>
      ) : (
        <ul className="events" data-testid="log-events">
          {events.result.value.map((e) => (
            <li key={e.id} className={`event event-${e.level}`}>
              <span className="event-time">{formatTime(e.createdAt)}</span>
              <span className={`level level-${e.level}`}>{e.level}</span>
              <span className="event-msg">{e.message}</span>
              {e.details && <code className="event-details">{JSON.stringify(e.details)}</code>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function LogsScreen() {
  const [vmContextId, setVm] = useState('');
  const [kind, setKind] = useState<OperationKind | ''>('');
  const [selected, setSelected] = useState<string | null>(null);
  const [exportError, setExportError] = useState<AppErrorShape | null>(null);
  const contextIds = useLive((s) => s.contextIds);
  const contextsById = useLive((s) => s.contextsById);
  const ops = useInvoke('logs:operations', {
    limit: 500,
    ...(vmContextId ? { vmContextId } : {}),
    ...(kind ? { kind } : {}),
  });

  const exportLogs = async () => {
    setExportError(null);
    const r = await api().invoke('logs:export', selected ? { operationId: selected } : vmContextId ? { vmContextId } : {});
    if (r.ok) downloadText(r.value.filename, r.value.content);
    else setExportError(r.error);
  };

  return (
    <div className="screen-col">
      <div className="toolbar">
        <label>
          VM
          <select value={vmContextId} onChange={(e) => setVm(e.target.value)}>
            <option value="">all VMs</option>
            {contextIds.map((id) => (
              <option key={id} value={id}>
                {contextsById[id]?.name ?? id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as OperationKind | '')}>
            <option value="">all kinds</option>
            {OPERATION_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn" onClick={() => ops.reload()}>
          Refresh
        </button>
        <button type="button" className="btn" onClick={() => void exportLogs()}>
          Export{selected ? ' operation' : ''}
        </button>
      </div>
      {exportError && <ErrorBox error={exportError} what="Log export" />}
      <div className="logs-split">
        <div className="log-list">
          {ops.result === null ? (
            <p className="muted screen-pad">Loading…</p>
          ) : !ops.result.ok ? (
            <ErrorBox error={ops.result.error} />
          ) : ops.result.value.length === 0 ? (
            <div className="empty-state small">No operations recorded yet. Discovery, replication and failover runs appear here.</div>
          ) : (
            <table className="mini selectable" data-testid="log-operations">
              <thead>
                <tr>
                  <th>Started</th>
                  <th>Kind</th>
                  <th>Operation</th>
                  <th>VM</th>
                  <th>Status</th>
                </tr>
              </thead>
              <tbody>
                {ops.result.value.map((o) => (
                  <tr key={o.id} className={selected === o.id ? 'selected' : undefined} onClick={() => setSelected(o.id)}>
                    <td>{formatTime(o.startedAt)}</td>
                    <td>{o.kind}</td>
                    <td title={o.error ?? undefined}>{o.title}</td>
                    <td>{o.vmContextId ? (contextsById[o.vmContextId]?.name ?? o.vmContextId) : '—'}</td>
                    <td>
                      <StatusBadge status={o.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div className="log-side">
          {selected ? <OperationDetail key={selected} operationId={selected} /> : <p className="muted screen-pad">Select an operation to see its steps and events.</p>}
        </div>
      </div>
    </div>
  );
}
