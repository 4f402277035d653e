// Schedules: list with next runs (in the schedule's zone and in local time), last result, VMs over
// their replica-age target; create/edit with a live preview of the next five runs as they will fire;
// enable/disable; run now; execution history with per-VM outcomes linked to the jobs.
import { useEffect, useState, type FormEvent } from 'react';
import type { ScheduleInput, ScheduleView } from '../../../shared/contract';
import type { ScheduleCatchUpPolicy, ScheduleExecution, ScheduleSkipReason, ScheduleSyncType } from '../../../shared/domain';
import type { AppErrorShape } from '../../../shared/errors';
import { ErrorBox } from '../components/ErrorBox';
import { StatusBadge } from '../components/StatusBadge';
import { useInvoke } from '../lib/use-invoke';
import { formatDuration, formatTime } from '../lib/format';
import { formatDateTime } from '../../../shared/format';
import { statusText } from '../../../shared/status-text';
import { api } from '../transport/api';
import { useLive } from '../store/contexts-store';
import { latestById, withPushedExecutions } from '../lib/executions';

const SKIP_TEXT: Record<ScheduleSkipReason, string> = {
  schedule_disabled: 'schedule disabled',
  vm_disabled: 'VM disabled',
  active_job: 'job already running',
  failing_over: 'failover in progress',
  failed_over: 'failed over',
  vma_unreachable: 'VMA unreachable',
};

/** "Mar 29, 2026, 02:30 AM" in the given zone: the month as a word, as everywhere else (a numeric "3/12/26" reads two ways). */
function inZone(iso: string, timeZone: string): string {
  return formatDateTime(iso, { timeZone, seconds: false });
}

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

type FormValues = {
  name: string;
  cronExpression: string;
  timezone: string;
  enabled: boolean;
  syncType: ScheduleSyncType;
  maxConcurrentJobs: string;
  skipIfRunning: boolean;
  retryAttempts: string;
  retryDelaySeconds: string;
  catchUp: ScheduleCatchUpPolicy;
};

const blank = (): FormValues => ({
  name: '',
  cronExpression: '0 2 * * *',
  timezone: localZone,
  enabled: true,
  syncType: 'auto',
  maxConcurrentJobs: '10',
  skipIfRunning: true,
  retryAttempts: '0',
  retryDelaySeconds: '300',
  catchUp: 'run_once',
});

function fromView(v: ScheduleView): FormValues {
  const s = v.schedule;
  return {
    name: s.name,
    cronExpression: s.cronExpression,
    timezone: s.timezone,
    enabled: s.enabled,
    syncType: s.syncType,
    maxConcurrentJobs: String(s.maxConcurrentJobs),
    skipIfRunning: s.skipIfRunning,
    retryAttempts: String(s.retryAttempts),
    retryDelaySeconds: String(s.retryDelaySeconds),
    catchUp: s.catchUp,
  };
}

/** Next five runs of what is typed, from the core's cron module; its error when the input is wrong. */
function Preview({ cronExpression, timezone }: { cronExpression: string; timezone: string }) {
  const [debounced, setDebounced] = useState({ cronExpression, timezone });
  useEffect(() => {
    const t = setTimeout(() => setDebounced({ cronExpression, timezone }), 250);
    return () => clearTimeout(t);
  }, [cronExpression, timezone]);
  const ok = debounced.cronExpression.trim() !== '' && debounced.timezone.trim() !== '';
  const r = useInvoke('schedules:preview', ok ? { ...debounced, count: 5 } : null);
  if (!r.result) return null;
  if (!r.result.ok) return <div className="field-error block" data-testid="cron-error">{r.result.error.message}</div>;
  return (
    <div data-testid="cron-preview">
      <div className="muted small">Next runs ({debounced.timezone} · your time {localZone})</div>
      <ol className="small">
        {r.result.value.runs.map((iso) => (
          <li key={iso}>
            {inZone(iso, debounced.timezone)} <span className="muted">· {formatTime(iso)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function ScheduleForm({ editing, onDone }: { editing: ScheduleView | null; onDone: () => void }) {
  const [v, setV] = useState<FormValues>(editing ? fromView(editing) : blank());
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setV(editing ? fromView(editing) : blank()), [editing]);
  const set = <K extends keyof FormValues>(k: K, value: FormValues[K]) => setV((x) => ({ ...x, [k]: value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: ScheduleInput = {
      name: v.name.trim(),
      cronExpression: v.cronExpression.trim(),
      timezone: v.timezone.trim(),
      enabled: v.enabled,
      syncType: v.syncType,
      maxConcurrentJobs: Number(v.maxConcurrentJobs),
      skipIfRunning: v.skipIfRunning,
      retryAttempts: Number(v.retryAttempts),
      retryDelaySeconds: Number(v.retryDelaySeconds),
      catchUp: v.catchUp,
    };
    const r = editing ? await api().invoke('schedules:update', { id: editing.schedule.id, ...body }) : await api().invoke('schedules:create', body);
    setBusy(false);
    if (r.ok) {
      if (!editing) setV(blank());
      onDone();
    } else setError(r.error);
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label={editing ? 'Edit schedule' : 'New schedule'}>
      <div className="form-row">
        <label>
          Name
          <input value={v.name} onChange={(e) => set('name', e.target.value)} />
        </label>
        <label>
          Cron expression
          <input className="mono" value={v.cronExpression} onChange={(e) => set('cronExpression', e.target.value)} aria-describedby="cron-help" />
        </label>
        <label>
          Time zone
          <input value={v.timezone} onChange={(e) => set('timezone', e.target.value)} />
        </label>
      </div>
      <p id="cron-help" className="hint small">
        5 fields (minute hour day month weekday) or 6 with seconds first; read in the schedule&apos;s time zone, across DST changes.
      </p>
      <Preview cronExpression={v.cronExpression} timezone={v.timezone} />
      <div className="form-row">
        <label>
          Sync type
          <select value={v.syncType} onChange={(e) => set('syncType', e.target.value as FormValues['syncType'])}>
            <option value="auto">auto (incremental when possible)</option>
            <option value="full">full copy every time</option>
          </select>
        </label>
        <label>
          Max concurrent jobs
          <input type="number" min={1} value={v.maxConcurrentJobs} onChange={(e) => set('maxConcurrentJobs', e.target.value)} />
        </label>
        <label>
          Retry attempts
          <input type="number" min={0} value={v.retryAttempts} onChange={(e) => set('retryAttempts', e.target.value)} />
        </label>
        <label>
          Retry delay (s)
          <input type="number" min={0} value={v.retryDelaySeconds} onChange={(e) => set('retryDelaySeconds', e.target.value)} />
        </label>
        <label>
          Missed runs
          <select value={v.catchUp} onChange={(e) => set('catchUp', e.target.value as FormValues['catchUp'])}>
            <option value="run_once">run once on start or wake</option>
            <option value="skip">skip</option>
          </select>
        </label>
      </div>
      <div className="form-row">
        <label className="check">
          <input type="checkbox" checked={v.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
        </label>
        <label className="check">
          <input type="checkbox" checked={v.skipIfRunning} onChange={(e) => set('skipIfRunning', e.target.checked)} /> Skip a run while the previous one is still running
          (otherwise it waits)
        </label>
      </div>
      {error && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save schedule' : 'Create schedule'}
        </button>
        {editing && (
          <button type="button" className="btn ghost" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function ExecutionOutcome({ e }: { e: ScheduleExecution }) {
  return (
    <span className="small">
      {e.started} started · {e.completed} completed · {e.failed} failed · {e.skippedCount} skipped
      {e.retried > 0 ? ` · ${e.retried} retried` : ''}
    </span>
  );
}

function ExecutionRow({ e }: { e: ScheduleExecution }) {
  const [open, setOpen] = useState(false);
  const detail = useInvoke('executions:get', open ? { id: e.id } : null);
  const contexts = useLive((s) => s.contextsById);
  const name = (id: string) => contexts[id]?.name ?? id;
  const duration = e.endedAt ? (Date.parse(e.endedAt) - Date.parse(e.startedAt)) / 1000 : null;
  // The per-VM list follows the pushed counters: a start, skip or job end changes them.
  const reloadDetail = detail.reload;
  const counters = `${e.status}/${e.started}/${e.completed}/${e.failed}/${e.skippedCount}/${e.retried}`;
  useEffect(() => {
    if (open) reloadDetail();
  }, [counters, open, reloadDetail]);
  return (
    <tbody data-execution-id={e.id} data-status={e.status}>
      <tr onClick={() => setOpen((o) => !o)}>
        <td>{formatTime(e.startedAt)}</td>
        <td>{statusText(e.trigger)}</td>
        <td>
          <StatusBadge status={e.status} />
        </td>
        <td className="num">{e.eligible}</td>
        <td>
          <ExecutionOutcome e={e} />
        </td>
        <td>{duration === null ? 'running' : formatDuration(duration)}</td>
        <td className="muted small">{e.note ?? ''}</td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7}>
            {detail.result?.ok ? (
              <ul className="small" data-testid="execution-vms">
                {detail.result.value.jobs.map((j) => (
                  <li key={j.id} data-job-id={j.id}>
                    {name(j.vmContextId)}: <span className="mono">{j.id}</span> <StatusBadge status={j.status} /> {j.error ?? ''}
                  </li>
                ))}
                {e.startFailures.map((f) => (
                  <li key={`f-${f.vmContextId}`}>
                    {name(f.vmContextId)}: could not start — {f.error}
                  </li>
                ))}
                {Object.entries(e.skipped).flatMap(([reason, ids]) =>
                  (ids ?? []).map((id) => (
                    <li key={`s-${reason}-${id}`}>
                      {name(id)}: skipped ({SKIP_TEXT[reason as ScheduleSkipReason]})
                    </li>
                  )),
                )}
              </ul>
            ) : detail.result && !detail.result.ok ? (
              <ErrorBox error={detail.result.error} />
            ) : (
              <span className="muted">Loading…</span>
            )}
          </td>
        </tr>
      )}
    </tbody>
  );
}

function History({ scheduleId, refresh, pushed }: { scheduleId: string; refresh: number; pushed: ScheduleExecution[] }) {
  const r = useInvoke('executions:list', { scheduleId, limit: 50 });
  const { reload } = r;
  useEffect(reload, [refresh, reload]);
  if (!r.result) return <p className="muted">Loading…</p>;
  if (!r.result.ok) return <ErrorBox error={r.result.error} />;
  const executions = withPushedExecutions(r.result.value, pushed, scheduleId);
  if (executions.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <table className="grid" aria-label="Execution history" data-testid="execution-history">
      <thead>
        <tr>
          <th>Started</th>
          <th>Trigger</th>
          <th>Status</th>
          <th className="num">Eligible</th>
          <th>Outcome</th>
          <th>Duration</th>
          <th>Note</th>
        </tr>
      </thead>
      {executions.map((e) => (
        <ExecutionRow key={e.id} e={e} />
      ))}
    </table>
  );
}

export function SchedulesScreen() {
  const list = useInvoke('schedules:list', {});
  const [editing, setEditing] = useState<ScheduleView | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [tick, setTick] = useState(0);
  const [pushed, setPushed] = useState<ScheduleExecution[]>([]);
  const { reload } = list;
  // Runs move as the core pushes them (executions:changed): the history takes the pushed rows as they
  // are; the list (running, last result, next run) is read again once per pushed batch. No polling.
  useEffect(
    () =>
      api().on('executions:changed', (p) => {
        setPushed((prev) => latestById(prev, p.executions));
        reload();
      }),
    [reload],
  );
  const act = async (p: Promise<{ ok: boolean; error?: AppErrorShape }>) => {
    setError(null);
    const r = await p;
    if (!r.ok && r.error) setError(r.error);
    reload();
    setTick((n) => n + 1);
  };
  if (!list.result) return <p className="muted screen-pad">Loading…</p>;
  if (!list.result.ok) return <div className="screen-pad"><ErrorBox error={list.result.error} what="Schedules" /></div>;
  const views = list.result.value;
  const current = views.find((v) => v.schedule.id === selected) ?? null;
  return (
    <div className="screen-pad">
      <p className="hint block" data-testid="schedules-note">
        Schedules run only while the console (or its tray icon) or <span className="mono">mkc serve</span> is running.
      </p>
      {error && <ErrorBox error={error} />}
      {views.length === 0 ? (
        <div className="empty-state small">No schedules yet.</div>
      ) : (
        <table className="grid" aria-label="Schedules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Cron</th>
              <th>Next run</th>
              <th>Last run</th>
              <th className="num">VMs</th>
              <th className="num">Over age target</th>
              <th>Enabled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {views.map((v) => {
              const s = v.schedule;
              const next = v.nextRuns[0];
              return (
                <tr key={s.id} data-schedule-id={s.id} data-schedule={s.name} className={selected === s.id ? 'selected' : undefined}>
                  <td>
                    <button type="button" className="btn small ghost" onClick={() => setSelected(s.id)}>
                      {s.name}
                    </button>
                  </td>
                  <td className="mono">
                    {s.cronExpression} <span className="muted small">{s.timezone}</span>
                  </td>
                  <td data-testid="next-run">
                    {next ? (
                      <>
                        {inZone(next, s.timezone)} <span className="muted small">({formatTime(next)} local)</span>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-testid="last-run">
                    {v.running ? (
                      <StatusBadge status="running" />
                    ) : v.lastExecution ? (
                      <>
                        <StatusBadge status={v.lastExecution.status} /> <ExecutionOutcome e={v.lastExecution} />
                      </>
                    ) : (
                      'never'
                    )}
                  </td>
                  <td className="num">{v.vmCount}</td>
                  <td className={v.overTarget > 0 ? 'num err-text' : 'num'}>{v.overTarget}</td>
                  <td>
                    <label className="check">
                      <input
                        type="checkbox"
                        aria-label={`${s.name} enabled`}
                        checked={s.enabled}
                        onChange={(e) => void act(api().invoke('schedules:update', { id: s.id, enabled: e.target.checked }))}
                      />
                    </label>
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn small"
                      disabled={v.running}
                      onClick={() => {
                        setSelected(s.id);
                        void act(api().invoke('schedules:run-now', { id: s.id }));
                      }}
                    >
                      Run now
                    </button>
                    <button type="button" className="btn small ghost" onClick={() => setEditing(v)}>
                      Edit
                    </button>
                    <button type="button" className="btn small ghost" onClick={() => void act(api().invoke('schedules:delete', { id: s.id }))}>
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <section className="card" aria-labelledby="schedule-form-title">
        <h2 id="schedule-form-title">{editing ? `Edit ${editing.schedule.name}` : 'New schedule'}</h2>
        <ScheduleForm
          editing={editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      </section>
      {current && (
        <section className="card" aria-labelledby="history-title">
          <h2 id="history-title">Runs of {current.schedule.name}</h2>
          <History scheduleId={current.schedule.id} refresh={tick} pushed={pushed} />
        </section>
      )}
    </div>
  );
}
