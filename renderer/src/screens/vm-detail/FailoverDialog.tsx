import { useCallback, useEffect, useState } from 'react';
import type { VmContextSummary } from '../../../../shared/domain';
import type { AppErrorShape } from '../../../../shared/errors';
import { findingRef, type Failover, type FailoverValidation, type SourceOnFailure } from '../../../../shared/failover';
import { api } from '../../transport/api';
import { ErrorBox } from '../../components/ErrorBox';

// The failover dialog opened from the VM panel: kind, the validation findings for that kind, the
// options (name, ports, MACs; for live the power-off timeout, final sync and what the source gets on
// failure), a recorded override when errors block, and for live the VM's name typed again.

/** The console's default graceful-shutdown wait, shown in the field (main/failover/failover-service.ts). */
const DEFAULT_POWER_OFF_SECONDS = 300;

export function FailoverDialog({ context, onClose, onStarted }: { context: VmContextSummary; onClose: () => void; onStarted: (f: Failover) => void }) {
  const [kind, setKind] = useState<'test' | 'live'>('test');
  const [validation, setValidation] = useState<FailoverValidation | null>(null);
  const [validating, setValidating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [vmName, setVmName] = useState('');
  const [ports, setPorts] = useState('');
  const [keepMacs, setKeepMacs] = useState(false);
  const [powerOffSeconds, setPowerOffSeconds] = useState(String(DEFAULT_POWER_OFF_SECONDS));
  const [finalSync, setFinalSync] = useState(true);
  const [sourceOnFailure, setSourceOnFailure] = useState<SourceOnFailure>('power_on');
  const [override, setOverride] = useState(false);
  const [overrideBy, setOverrideBy] = useState('');
  const [confirmName, setConfirmName] = useState('');

  const validate = useCallback(async (k: 'test' | 'live') => {
    setValidating(true);
    setValidation(null);
    const r = await api().invoke('failover:validate', { contextId: context.id, kind: k });
    setValidating(false);
    if (r.ok) setValidation(r.value);
    else setError(r.error);
  }, [context.id]);
  useEffect(() => void validate(kind), [kind, validate]);

  const portList = ports.split(/[\s,]+/).filter(Boolean).map(Number);
  const portsValid = portList.every((p) => Number.isInteger(p) && p > 0 && p < 65536);
  const seconds = Number(powerOffSeconds);
  const secondsValid = Number.isInteger(seconds) && seconds >= 10 && seconds <= 3600;
  const nameValid = vmName === '' || /^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(vmName);
  const errors = validation?.findings.filter((f) => f.severity === 'error') ?? [];
  const canStart =
    !busy &&
    validation !== null &&
    validation.kind === kind &&
    portsValid &&
    nameValid &&
    (kind === 'test' || (secondsValid && confirmName === context.name)) &&
    (errors.length === 0 || (override && overrideBy.trim() !== ''));

  const start = async () => {
    setBusy(true);
    setError(null);
    const r = await api().invoke('failover:start', {
      contextId: context.id,
      kind,
      ...(kind === 'test' && vmName ? { vmName } : {}),
      ...(kind === 'live' ? { confirmName, powerOffTimeoutSeconds: seconds, finalSync, sourceOnFailure } : {}),
      ...(portList.length ? { ports: portList } : {}),
      ...(keepMacs ? { keepMacAddresses: true } : {}),
      ...(errors.length ? { override: { by: overrideBy.trim(), findings: errors.map(findingRef) } } : {}),
    });
    setBusy(false);
    if (r.ok) onStarted(r.value);
    else setError(r.error);
  };

  return (
    <div className="modal-backdrop">
      <div className="modal failover-dialog" role="dialog" aria-modal="true" aria-label={`Fail over ${context.name}`}>
        <h3>Fail over {context.name}</h3>
        <fieldset className="kind-choice">
          <legend>Type</legend>
          <label>
            <input type="radio" name="failover-kind" aria-label="Test failover" checked={kind === 'test'} onChange={() => setKind('test')} /> Test failover — the source keeps running; the
            VM starts on the test networks
          </label>
          <label>
            <input type="radio" name="failover-kind" aria-label="Live failover" checked={kind === 'live'} onChange={() => setKind('live')} /> Live failover — powers the source off, final
            sync, then the VM starts on the live networks
          </label>
        </fieldset>

        <div data-testid="failover-findings" className="dialog-findings">
          {validating || !validation ? (
            <p className="muted">Validating…</p>
          ) : validation.findings.length === 0 ? (
            <div className="success">No findings: ready for a {validation.kind} failover.</div>
          ) : (
            <ul className="findings">
              {validation.findings.map((f) => (
                <li key={findingRef(f)} className={f.severity === 'error' ? 'err-text' : 'warn-text'} data-code={f.code}>
                  {f.severity}: {f.message}
                </li>
              ))}
            </ul>
          )}
          <button type="button" className="btn small" disabled={validating} onClick={() => void validate(kind)}>
            Validate again
          </button>
        </div>

        <div className="dialog-options">
          {kind === 'test' && (
            <label className="field-inline">
              VM name <input aria-label="CloudStack VM name" value={vmName} placeholder={`${context.name.toLowerCase()}-test-<timestamp>`} onChange={(e) => setVmName(e.target.value)} />
              {!nameValid && <span className="err-text"> a letter, then letters, digits or hyphens</span>}
            </label>
          )}
          <label className="field-inline">
            TCP ports to check <input aria-label="Ports to check" value={ports} placeholder="22, 443" onChange={(e) => setPorts(e.target.value)} />
            {!portsValid && <span className="err-text"> ports are 1–65535</span>}
          </label>
          <label className="field-inline">
            <input type="checkbox" checked={keepMacs} onChange={(e) => setKeepMacs(e.target.checked)} /> Keep the NICs&apos; MAC addresses where CloudStack allows
          </label>
          {kind === 'live' && (
            <>
              <label className="field-inline">
                Force the power-off after{' '}
                <input aria-label="Power-off timeout (seconds)" className="narrow" value={powerOffSeconds} onChange={(e) => setPowerOffSeconds(e.target.value)} /> s of
                graceful shutdown
                {!secondsValid && <span className="err-text"> 10–3600 seconds</span>}
              </label>
              <label className="field-inline">
                <input type="checkbox" aria-label="Final sync" checked={finalSync} onChange={(e) => setFinalSync(e.target.checked)} /> Final incremental sync after the
                power-off
              </label>
              {!finalSync && (
                <div className="warn-text" data-testid="final-sync-warning">
                  Without a final sync the VM fails over as of its last completed sync: whatever {context.name} wrote since then is lost.
                </div>
              )}
              <label className="field-inline">
                If the failover fails{' '}
                <select aria-label="Source on failure" value={sourceOnFailure} onChange={(e) => setSourceOnFailure(e.target.value === 'keep_off' ? 'keep_off' : 'power_on')}>
                  <option value="power_on">power the source back on</option>
                  <option value="keep_off">leave the source powered off</option>
                </select>
              </label>
            </>
          )}
        </div>

        {errors.length > 0 && (
          <div className="override">
            <label>
              <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> Override {errors.length} error
              {errors.length === 1 ? '' : 's'} (recorded with the failover)
            </label>
            {override && <input aria-label="Your name" placeholder="Your name" value={overrideBy} onChange={(e) => setOverrideBy(e.target.value)} />}
          </div>
        )}
        {kind === 'live' && (
          <label className="field-inline warn-text confirm-name">
            Live failover powers {context.name} off. Type the VM&apos;s name to confirm{' '}
            <input aria-label="Confirm VM name" value={confirmName} onChange={(e) => setConfirmName(e.target.value)} />
          </label>
        )}
        {error && <ErrorBox error={error} what="Failover" />}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={!canStart} onClick={() => void start()}>
            Start {kind} failover
          </button>
        </div>
      </div>
    </div>
  );
}

/** Rollback (or cleanup): for live, whether the source is powered back on and waited for. */
export function RollbackDialog({ failover, vmName, onClose, onDone }: { failover: Failover; vmName: string; onClose: () => void; onDone: () => void }) {
  const [powerOn, setPowerOn] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const cleanup = failover.status === 'cleanup_required';
  const go = async () => {
    setBusy(true);
    const r = await api().invoke('failover:rollback', { failoverId: failover.id, ...(failover.kind === 'live' ? { powerOnSource: powerOn } : {}) });
    setBusy(false);
    if (r.ok) onDone();
    else setError(r.error);
  };
  return (
    <div className="modal-backdrop">
      <div className="modal failover-dialog" role="dialog" aria-modal="true" aria-label={cleanup ? 'Clean up failover' : 'Roll back failover'}>
        <h3>
          {cleanup ? 'Clean up' : 'Roll back'} the {failover.kind} failover of {vmName}
        </h3>
        <p>
          Stops and deletes the CloudStack VM {failover.vmName}, {failover.kind === 'test' ? 'reverts each volume to its snapshot, ' : ''}reattaches the volumes to the OMA
          appliance and publishes their exports again; the VM is then ready for failover.
        </p>
        {failover.kind === 'live' && (
          <label className="field-inline">
            <input type="checkbox" aria-label="Power the source back on" checked={powerOn} onChange={(e) => setPowerOn(e.target.checked)} /> Power {vmName} back on in
            VMware and wait until it is on
          </label>
        )}
        {error && <ErrorBox error={error} what="Rollback" />}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={busy} onClick={() => void go()}>
            {cleanup ? 'Clean up' : 'Roll back'}
          </button>
        </div>
      </div>
    </div>
  );
}
