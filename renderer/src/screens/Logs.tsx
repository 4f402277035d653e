import { useEffect, useState } from 'react';
import { LOG_LEVELS, OPERATION_KINDS, VMA_PHASE_DETAIL, type LogLevel, type OperationKind } from '../../../shared/domain';
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

/** An event's details as shown under it, without what its message already says (a recorded VMA phase). */
export function shownDetails(details: Record<string, unknown> | null): string | null {
  if (!details) return null;
  const rest = Object.fromEntries(Object.entries(details).filter(([k]) => k !== VMA_PHASE_DETAIL));
  return Object.keys(rest).length > 0 ? JSON.stringify(rest) : null;
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
              {shownDetails(e.details) && <code className="event-details">{shownDetails(e.details)}</code>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A `yyyy-mm-dd` from a date input as the ISO time of that local midnight (plus `days`). */
export function localDayStart(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days).toISOString();
}

/** Text typed into the search box, applied once typing pauses. */
function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function LogsScreen() {
  const [vmContextId, setVm] = useState('');
  const [kind, setKind] = useState<OperationKind | ''>('');
  const [textInput, setText] = useState('');
  const [fromDay, setFromDay] = useState('');
  const [toDay, setToDay] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [exportError, setExportError] = useState<AppErrorShape | null>(null);
  const [exported, setExported] = useState<{ path: string; count: number } | null>(null);
  const contextIds = useLive((s) => s.contextIds);
  const contextsById = useLive((s) => s.contextsById);
  const text = useDebounced(textInput.trim(), 250);
  const from = localDayStart(fromDay);
  // The "to" day is included: the range ends at the next local midnight.
  const to = localDayStart(toDay, 1);
  // The search runs in the core (text in titles, errors and event messages; a date range), so a long log is never shipped whole.
  const search = {
    ...(vmContextId ? { vmContextId } : {}),
    ...(kind ? { kind } : {}),
    ...(text ? { text } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
  const ops = useInvoke('logs:operations', { limit: 500, ...search });
  const reloadOps = ops.reload;
  const filtered = Object.keys(search).length > 0;

  // The list follows the log live: new operations and status changes arrive as events (refetch at most every second).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = api().on('logs:appended', () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        reloadOps();
      }, 1000);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [reloadOps]);

  const exportLogs = async () => {
    setExportError(null);
    setExported(null);
    const r = await api().invoke('logs:export', selected ? { operationId: selected } : search);
    if (r.ok) {
      downloadText(r.value.filename, r.value.content);
      setExported({ path: r.value.path, count: (r.value.content.match(/^== /gm) ?? []).length });
    } else setExportError(r.error);
  };

  return (
    <div className="screen-col">
      <div className="toolbar" role="search" aria-label="Search the log">
        <label>
          Search
          <input
            type="search"
            value={textInput}
            placeholder="VM, job id, message…"
            onChange={(e) => setText(e.target.value)}
            data-testid="log-search"
          />
        </label>
        <label>
          From
          <input type="date" value={fromDay} onChange={(e) => setFromDay(e.target.value)} data-testid="log-from" />
        </label>
        <label>
          To
          <input type="date" value={toDay} onChange={(e) => setToDay(e.target.value)} data-testid="log-to" />
        </label>
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
        {filtered && (
          <button
            type="button"
            className="btn"
            onClick={() => {
              setText('');
              setFromDay('');
              setToDay('');
              setVm('');
              setKind('');
            }}
          >
            Clear filters
          </button>
        )}
        <button type="button" className="btn" onClick={() => void exportLogs()}>
          Export{selected ? ' operation' : filtered ? ' matching' : ''}
        </button>
      </div>
      {exportError && <ErrorBox error={exportError} what="Log export" />}
      {exported && (
        <div className="notice ok" role="status" data-testid="export-done">
          Log exported ({exported.count} operation{exported.count === 1 ? '' : 's'}) to <code>{exported.path}</code>
          <button type="button" className="link" onClick={() => setExported(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
      <div className="logs-split">
        <div className="log-list">
          {ops.result === null ? (
            <p className="muted screen-pad">Loading…</p>
          ) : !ops.result.ok ? (
            <ErrorBox error={ops.result.error} />
          ) : ops.result.value.length === 0 ? (
            <div className="empty-state small">
              {filtered ? 'No operations match these filters.' : 'No operations recorded yet. Discovery, replication and failover runs appear here.'}
            </div>
          ) : (
            <table className="mini selectable" data-testid="log-operations" data-count={ops.result.value.length}>
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
                  <tr
                    key={o.id}
                    data-operation={o.id}
                    className={selected === o.id ? 'selected' : undefined}
                    onClick={() => setSelected(o.id)}
                  >
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
