// Machine groups: create/edit, the schedule that runs them, their limits and replica-age target;
// add VMs (ungrouped first, or any managed VM: a VM may be in several groups), member priority.
import { useEffect, useState, type FormEvent } from 'react';
import type { GroupInput, VmGroupView } from '../../../shared/contract';
import type { AppErrorShape } from '../../../shared/errors';
import { ErrorBox } from '../components/ErrorBox';
import { useInvoke } from '../lib/use-invoke';
import { formatDuration } from '../lib/format';
import { Age } from '../components/Age';
import { api } from '../transport/api';
import { useLive } from '../store/contexts-store';

type FormValues = { name: string; description: string; scheduleId: string; maxConcurrentVms: string; priority: string; targetHours: string; enabled: boolean };

const blank = (): FormValues => ({ name: '', description: '', scheduleId: '', maxConcurrentVms: '5', priority: '100', targetHours: '', enabled: true });
const fromView = (v: VmGroupView): FormValues => ({
  name: v.group.name,
  description: v.group.description,
  scheduleId: v.group.scheduleId ?? '',
  maxConcurrentVms: String(v.group.maxConcurrentVms),
  priority: String(v.group.priority),
  targetHours: v.group.replicaAgeTargetSeconds === null ? '' : String(v.group.replicaAgeTargetSeconds / 3600),
  enabled: v.group.enabled,
});

function GroupForm({ editing, onDone }: { editing: VmGroupView | null; onDone: () => void }) {
  const schedules = useInvoke('schedules:list', {});
  const [v, setV] = useState<FormValues>(editing ? fromView(editing) : blank());
  const [error, setError] = useState<AppErrorShape | null>(null);
  useEffect(() => setV(editing ? fromView(editing) : blank()), [editing]);
  const set = <K extends keyof FormValues>(k: K, value: FormValues[K]) => setV((x) => ({ ...x, [k]: value }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body: GroupInput = {
      name: v.name.trim(),
      description: v.description.trim(),
      scheduleId: v.scheduleId || null,
      maxConcurrentVms: Number(v.maxConcurrentVms),
      priority: Number(v.priority),
      enabled: v.enabled,
      replicaAgeTargetSeconds: v.targetHours.trim() === '' ? null : Math.round(Number(v.targetHours) * 3600),
    };
    const r = editing ? await api().invoke('groups:update', { id: editing.group.id, ...body }) : await api().invoke('groups:create', body);
    if (r.ok) {
      if (!editing) setV(blank());
      onDone();
    } else setError(r.error);
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label={editing ? 'Edit group' : 'New group'}>
      <div className="form-row">
        <label>
          Name
          <input value={v.name} onChange={(e) => set('name', e.target.value)} />
        </label>
        <label>
          Description
          <input value={v.description} onChange={(e) => set('description', e.target.value)} />
        </label>
        <label>
          Schedule
          <select value={v.scheduleId} onChange={(e) => set('scheduleId', e.target.value)} aria-label="Schedule">
            <option value="">— none —</option>
            {schedules.result?.ok &&
              schedules.result.value.map((s) => (
                <option key={s.schedule.id} value={s.schedule.id}>
                  {s.schedule.name}
                </option>
              ))}
          </select>
        </label>
      </div>
      <div className="form-row">
        <label>
          Max concurrent VMs
          <input type="number" min={1} value={v.maxConcurrentVms} onChange={(e) => set('maxConcurrentVms', e.target.value)} />
        </label>
        <label>
          Priority (lower runs first)
          <input type="number" min={0} value={v.priority} onChange={(e) => set('priority', e.target.value)} />
        </label>
        <label>
          Replica age target (hours)
          <input type="number" min={0} step="any" value={v.targetHours} placeholder="none" onChange={(e) => set('targetHours', e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={v.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
        </label>
      </div>
      {error && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="btn primary">
          {editing ? 'Save group' : 'Create group'}
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

function Members({ view, grouped, onChange }: { view: VmGroupView; grouped: Set<string>; onChange: (p: Promise<{ ok: boolean; error?: AppErrorShape }>) => void }) {
  const contexts = useLive((s) => s.contextsById);
  const [pick, setPick] = useState('');
  const memberIds = new Set(view.members.map((m) => m.vmContextId));
  const candidates = Object.values(contexts)
    .filter((c) => !memberIds.has(c.id))
    .sort((a, b) => Number(grouped.has(a.id)) - Number(grouped.has(b.id)) || a.name.localeCompare(b.name));
  const target = view.group.replicaAgeTargetSeconds;
  return (
    <div data-testid="group-members" data-group={view.group.name}>
      <table className="grid" aria-label={`Members of ${view.group.name}`}>
        <thead>
          <tr>
            <th>VM</th>
            <th className="num">Priority</th>
            <th>Enabled</th>
            <th>Last good sync{target !== null ? ` (target ${formatDuration(target)})` : ''}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {view.members.map((m) => {
            const over = view.overTarget.includes(m.vmContextId);
            return (
              <tr key={m.vmContextId} data-member={m.vmName}>
                <td>{m.vmName}</td>
                <td className="num">
                  <input
                    type="number"
                    min={0}
                    aria-label={`${m.vmName} priority`}
                    defaultValue={m.priority}
                    onBlur={(e) =>
                      Number(e.target.value) !== m.priority &&
                      onChange(api().invoke('groups:update-member', { groupId: view.group.id, vmContextId: m.vmContextId, priority: Number(e.target.value) }))
                    }
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${m.vmName} enabled`}
                    checked={m.enabled}
                    onChange={(e) => onChange(api().invoke('groups:update-member', { groupId: view.group.id, vmContextId: m.vmContextId, enabled: e.target.checked }))}
                  />
                </td>
                <td className={over ? 'err-text' : undefined} data-over-target={over ? 'yes' : 'no'}>
                  <Age iso={contexts[m.vmContextId]?.lastSuccessfulSyncAt ?? null} none="never synced" />
                  {over ? ' — over target' : ''}
                </td>
                <td className="actions">
                  <button type="button" className="btn small ghost" onClick={() => onChange(api().invoke('groups:remove-member', { groupId: view.group.id, vmContextId: m.vmContextId }))}>
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="toolbar">
        <select value={pick} onChange={(e) => setPick(e.target.value)} aria-label={`Add VM to ${view.group.name}`}>
          <option value="">Add a VM…</option>
          {candidates.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
              {grouped.has(c.id) ? ' (in another group)' : ''}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn small"
          disabled={!pick}
          onClick={() => {
            onChange(api().invoke('groups:add-members', { groupId: view.group.id, vmContextIds: [pick] }));
            setPick('');
          }}
        >
          Add
        </button>
      </div>
    </div>
  );
}

export function GroupsScreen() {
  const list = useInvoke('groups:list', {});
  const schedules = useInvoke('schedules:list', {});
  const [editing, setEditing] = useState<VmGroupView | null>(null);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const { reload } = list;
  const act = (p: Promise<{ ok: boolean; error?: AppErrorShape }>) => {
    setError(null);
    void p.then((r) => {
      if (!r.ok && r.error) setError(r.error);
      reload();
    });
  };
  if (!list.result) return <p className="muted screen-pad">Loading…</p>;
  if (!list.result.ok) return <div className="screen-pad"><ErrorBox error={list.result.error} what="Machine groups" /></div>;
  const views = list.result.value;
  const grouped = new Set(views.flatMap((v) => v.members.map((m) => m.vmContextId)));
  const scheduleName = (id: string | null) => (schedules.result?.ok ? schedules.result.value.find((s) => s.schedule.id === id)?.schedule.name : undefined) ?? '—';
  return (
    <div className="screen-pad">
      {error && <ErrorBox error={error} />}
      {views.length === 0 && <div className="empty-state small">No machine groups yet.</div>}
      {views.map((v) => (
        <section key={v.group.id} className="card" data-group-id={v.group.id}>
          {/* Name and its settings on the left, the actions together on the right. */}
          <div className="section-head group-head">
            <div className="group-title">
              <h2>{v.group.name}</h2>
              <span className="muted small">
                {[
                  v.group.description,
                  `schedule ${scheduleName(v.group.scheduleId)}`,
                  `up to ${v.group.maxConcurrentVms} VM(s) at once`,
                  `priority ${v.group.priority}`,
                  v.group.enabled ? '' : 'disabled',
                  v.overTarget.length > 0 ? `${v.overTarget.length} over age target` : '',
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </span>
            </div>
            <div className="group-actions">
              <button type="button" className="btn small ghost" onClick={() => setEditing(v)}>
                Edit
              </button>
              <button type="button" className="btn small ghost" onClick={() => act(api().invoke('groups:delete', { id: v.group.id }))}>
                Delete
              </button>
            </div>
          </div>
          <Members view={v} grouped={grouped} onChange={act} />
        </section>
      ))}
      <section className="card" aria-labelledby="group-form-title">
        <h2 id="group-form-title">{editing ? `Edit ${editing.group.name}` : 'New group'}</h2>
        <GroupForm
          editing={editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      </section>
    </div>
  );
}
