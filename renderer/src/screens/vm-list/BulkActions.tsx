// Bulk actions over the ticked VMs: replicate, cancel, add to a group, disable/enable, remove. Each VM
// is asked separately so one refusal (no appliance, already running, failover in progress) does not
// stop the others, and the outcome names each refusal.
import { useRef, useState } from 'react';
import type { InvokeChannel, InvokeRequest } from '../../../../shared/contract';
import { reloadPlans } from '../../store/schedule-plans';
import { AddToGroup } from './AddToGroup';
import { RemoveDialog } from './RemoveDialog';
import type { VmContextSummary } from '../../../../shared/domain';
import { api } from '../../transport/api';
import { uiActions, useUi } from '../../store/ui-store';
import { startBlockedReason } from '../../lib/start-blocked';

interface Outcome {
  verb: string;
  done: number;
  refused: { name: string; message: string }[];
}

export function BulkActions({ all, shown }: { all: VmContextSummary[]; shown: VmContextSummary[] }) {
  const checkedIds = useUi((s) => s.checkedContextIds);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // Ticked VMs that still exist (a VM removed elsewhere drops out of the selection).
  const checked = all.filter((c) => checkedIds.has(c.id));
  const hiddenChecked = checked.length - shown.filter((c) => checkedIds.has(c.id)).length;
  const startable = checked.filter((c) => startBlockedReason(c) === null);
  const running = checked.filter((c) => c.currentJobId !== null);
  const enabledOnes = checked.filter((c) => c.enabled);
  const disabledOnes = checked.filter((c) => !c.enabled);
  const [removing, setRemoving] = useState(false);
  const removeButton = useRef<HTMLButtonElement>(null);

  /** One request per VM; refusals are collected with the VM's name. */
  const each = async <C extends InvokeChannel>(
    key: string,
    verb: string,
    list: VmContextSummary[],
    channel: C,
    request: (c: VmContextSummary) => InvokeRequest<C>,
  ) => {
    setBusy(key);
    setOutcome(null);
    const refused: Outcome['refused'] = [];
    let done = 0;
    for (const c of list) {
      const r = await api().invoke(channel, request(c));
      if (r.ok) done++;
      else refused.push({ name: c.name, message: r.error.message });
    }
    setBusy(null);
    setOutcome({ verb, done, refused });
    void reloadPlans();
  };

  const replicate = async () => {
    setBusy('replicate');
    setOutcome(null);
    const refused: Outcome['refused'] = [];
    let done = 0;
    for (const c of checked) {
      const blocked = startBlockedReason(c);
      if (blocked) {
        refused.push({ name: c.name, message: blocked });
        continue;
      }
      const r = await api().invoke('replication:start', { contextId: c.id });
      if (r.ok) done++;
      else refused.push({ name: c.name, message: r.error.message });
    }
    setBusy(null);
    setOutcome({ verb: 'Started', done, refused });
  };

  const cancel = async () => {
    setBusy('cancel');
    setConfirmCancel(false);
    setOutcome(null);
    const refused: Outcome['refused'] = [];
    let done = 0;
    for (const c of running) {
      if (!c.currentJobId) continue;
      const r = await api().invoke('jobs:cancel', { id: c.currentJobId });
      if (r.ok) done++;
      else refused.push({ name: c.name, message: r.error.message });
    }
    setBusy(null);
    setOutcome({ verb: 'Cancelled', done, refused });
  };

  return (
    <div className="bulk" data-testid="bulk-actions">
      <span className="bulk-count" aria-live="polite">
        {checked.length === 0 ? 'None selected' : `${checked.length} selected${hiddenChecked > 0 ? ` (${hiddenChecked} not shown)` : ''}`}
      </span>
      <button
        type="button"
        className="btn small"
        disabled={busy !== null || startable.length === 0}
        title={checked.length > 0 && startable.length === 0 ? 'None of the selected VMs can start a sync now' : undefined}
        onClick={() => void replicate()}
      >
        {busy === 'replicate' ? 'Starting…' : `Replicate${startable.length > 0 ? ` (${startable.length})` : ''}`}
      </button>
      {confirmCancel ? (
        <span className="confirm-inline" role="group" aria-label="Confirm cancel">
          Cancel {running.length} running {running.length === 1 ? 'job' : 'jobs'}?{' '}
          <button type="button" className="btn danger small" onClick={() => void cancel()}>
            Yes, cancel
          </button>{' '}
          <button type="button" className="btn small" onClick={() => setConfirmCancel(false)}>
            Keep running
          </button>
        </span>
      ) : (
        <button type="button" className="btn danger small" disabled={busy !== null || running.length === 0} onClick={() => setConfirmCancel(true)}>
          {busy === 'cancel' ? 'Cancelling…' : `Cancel jobs${running.length > 0 ? ` (${running.length})` : ''}`}
        </button>
      )}
      <AddToGroup
        disabled={busy !== null || checked.length === 0}
        onAdd={(groupId, groupName) =>
          void (async () => {
            setBusy('group');
            setOutcome(null);
            const r = await api().invoke('groups:add-members', { groupId, vmContextIds: checked.map((c) => c.id) });
            setBusy(null);
            setOutcome(r.ok ? { verb: `Added to ${groupName}`, done: checked.length, refused: [] } : { verb: `Added to ${groupName}`, done: 0, refused: [{ name: groupName, message: r.error.message }] });
            void reloadPlans();
          })()
        }
      />
      <button
        type="button"
        className="btn small"
        disabled={busy !== null || enabledOnes.length === 0}
        title="Disabled VMs are skipped by schedules and cannot be synced by hand; their replicas stay as they are"
        onClick={() => void each('disable', 'Disabled', enabledOnes, 'contexts:set-enabled', (c) => ({ id: c.id, enabled: false }))}
      >
        {busy === 'disable' ? 'Disabling…' : `Disable${enabledOnes.length > 0 ? ` (${enabledOnes.length})` : ''}`}
      </button>
      <button
        type="button"
        className="btn small"
        disabled={busy !== null || disabledOnes.length === 0}
        onClick={() => void each('enable', 'Enabled', disabledOnes, 'contexts:set-enabled', (c) => ({ id: c.id, enabled: true }))}
      >
        {busy === 'enable' ? 'Enabling…' : `Enable${disabledOnes.length > 0 ? ` (${disabledOnes.length})` : ''}`}
      </button>
      <button ref={removeButton} type="button" className="btn danger small" disabled={busy !== null || checked.length === 0} onClick={() => setRemoving(true)}>
        {busy === 'remove' ? 'Removing…' : `Remove…${checked.length > 0 ? ` (${checked.length})` : ''}`}
      </button>
      {removing && (
        <RemoveDialog
          vms={checked}
          onClose={() => {
            setRemoving(false);
            requestAnimationFrame(() => removeButton.current?.focus());
          }}
          onConfirm={(fate) => {
            setRemoving(false);
            void each('remove', 'Removed', checked, 'contexts:remove', (c) => ({ id: c.id, volumes: fate })).then(() => {
              // The Remove button is disabled once its VMs are gone: focus goes to the search field.
              requestAnimationFrame(() => document.querySelector<HTMLElement>('.vm-search')?.focus());
            });
          }}
        />
      )}
      {checked.length > 0 && (
        <button type="button" className="btn ghost small" onClick={() => uiActions.setChecked([])}>
          Clear selection
        </button>
      )}
      {outcome && (
        <div className={outcome.refused.length > 0 ? 'bulk-outcome warn' : 'bulk-outcome'} role="status" data-testid="bulk-outcome">
          {outcome.verb} {outcome.done} of {outcome.done + outcome.refused.length}.
          {outcome.refused.map((r) => (
            <div key={r.name} className="bulk-refused">
              <strong>{r.name}:</strong> {r.message}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
