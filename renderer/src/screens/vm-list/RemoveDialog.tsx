// Confirmation for removing VMs from management. It lists what happens to each VM's replica volumes
// (from the core's removal plan) and which VMs the core will refuse now, before anything is done.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { RemovalVolumeFate } from '../../../../shared/contract';
import type { VmContextSummary } from '../../../../shared/domain';
import { formatBytes } from '../../lib/format';
import { useInvoke } from '../../lib/use-invoke';
import { ErrorBox } from '../../components/ErrorBox';

export function RemoveDialog({ vms, onClose, onConfirm }: { vms: VmContextSummary[]; onClose: () => void; onConfirm: (fate: RemovalVolumeFate) => void }) {
  const plan = useInvoke('contexts:removal-plan', { ids: vms.map((v) => v.id) });
  const [fate, setFate] = useState<RemovalVolumeFate>('keep');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.querySelector<HTMLElement>('input, button')?.focus();
  }, []);

  // Focus stays in the dialog; Escape closes it (and the VM panel behind it stays as it was).
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !box.current) return;
    const f = [...box.current.querySelectorAll<HTMLElement>('input:not(:disabled), button:not(:disabled)')];
    if (f.length === 0) return;
    const first = f[0]!;
    const last = f[f.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const plans = plan.result?.ok ? plan.result.value : [];
  const n = vms.length;
  const refusedNow = (p: (typeof plans)[number]) => (fate === 'delete' ? p.refusedDeleting : p.refusedKeeping) !== null;
  const refused = plans.filter(refusedNow);
  // Volumes this removal acts on: not those of refused VMs, nor those a live failover's VM now owns.
  const volumes = plans.flatMap((p) => (p.failedOverLive || refusedNow(p) ? [] : p.volumes));
  const go = n - refused.length;
  const confirmText =
    fate === 'delete' && volumes.length > 0
      ? `Remove ${go === 1 ? '' : `${go} VMs `}and delete ${volumes.length} volume${volumes.length === 1 ? '' : 's'}`
      : refused.length === 0
        ? `Remove${n === 1 ? '' : ` ${n} VMs`}`
        : `Remove ${go} of ${n}`;
  return (
    <div className="modal-backdrop">
      <div ref={box} className="modal" role="dialog" aria-modal="true" aria-labelledby="remove-title" aria-describedby="remove-what" onKeyDown={onKeyDown} data-testid="remove-dialog">
        <h2 id="remove-title">
          Remove {n === 1 ? vms[0]!.name : `${n} VMs`} from management?
        </h2>
        <p id="remove-what">
          The console forgets {n === 1 ? 'this VM' : 'these VMs'}: jobs, change ids and group memberships go; the log keeps what happened. The VMs
          in vCenter are not touched. Added again later, a VM starts with a full sync.
        </p>
        {plan.result && !plan.result.ok && <ErrorBox error={plan.result.error} />}
        {plan.loading && !plan.result && <p className="muted">Reading replica volumes…</p>}
        {plan.result?.ok && (
          <>
            <fieldset className="fate">
              <legend>
                Replica volumes in CloudStack: {volumes.length === 0 ? 'none to act on' : `${volumes.length} (${formatBytes(volumes.reduce((s, v) => s + v.sizeBytes, 0))})`}
              </legend>
              <label className="check-line">
                <input type="radio" name="fate" value="keep" checked={fate === 'keep'} onChange={() => setFate('keep')} />
                Keep them: detached from the OMA, kept in CloudStack under their names
              </label>
              <label className="check-line">
                <input type="radio" name="fate" value="delete" checked={fate === 'delete'} onChange={() => setFate('delete')} />
                Delete them in CloudStack (cannot be undone)
              </label>
            </fieldset>
            <ul className="removal-list" data-testid="removal-plan">
              {plans.map((p) => {
                const why = fate === 'delete' ? p.refusedDeleting : p.refusedKeeping;
                return (
                  <li key={p.contextId}>
                    <strong>{p.name}</strong>:{' '}
                    {why ? (
                      <span className="removal-refused">will be refused: {why}</span>
                    ) : p.volumes.length === 0 ? (
                      'no replica volumes'
                    ) : p.failedOverLive ? (
                      `${p.volumes.length} volume(s) stay with the failed-over CloudStack VM`
                    ) : (
                      `${p.volumes.map((v) => v.name).join(', ')} ${fate === 'delete' ? 'deleted' : 'kept'}`
                    )}
                  </li>
                );
              })}
            </ul>
          </>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Keep managing
          </button>
          <button type="button" className="btn danger" disabled={!plan.result?.ok || refused.length === n} onClick={() => onConfirm(fate)}>
            {confirmText}
          </button>
        </div>
      </div>
    </div>
  );
}
