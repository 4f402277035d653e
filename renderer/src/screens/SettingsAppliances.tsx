import { useState, type FormEvent, type InputHTMLAttributes } from 'react';
import type { ApplianceInput } from '../../../shared/contract';
import type { Appliance, ApplianceKind, SshAuthMethod, TunnelState } from '../../../shared/domain';
import { nbdAccessText } from '../../../shared/nbd-access-text';
import { callbackForwardText } from '../../../shared/callback-forward-text';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { api } from '../transport/api';
import { ConfirmAction } from '../components/Confirm';
import { SaveCancel } from '../components/SaveCancel';
import { ErrorBox, FormError, fieldErrors } from '../components/ErrorBox';
import { Field } from '../components/Field';
import { formatTime } from '../lib/format';

type TextFieldProps = {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  errors: Record<string, string>;
  className?: string;
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'name' | 'className'>;

/** A labelled input with its validation message under it (linked, not inside the label). */
function TextField({ label, name, value, onValue, errors, className, ...input }: TextFieldProps) {
  return (
    <Field label={label} error={errors[name]} {...(className ? { className } : {})}>
      <input value={value} onChange={(e) => onValue(e.target.value)} {...input} />
    </Field>
  );
}

function parsePort(v: string): number | undefined {
  const t = v.trim();
  return t === '' ? undefined : Number(t);
}

function ApplianceForm({ onAdded }: { onAdded: () => void }) {
  const [kind, setKind] = useState<ApplianceKind>('vma');
  const [name, setName] = useState('');
  const [host, setHost] = useState('');
  const [port, setPort] = useState('22');
  const [username, setUsername] = useState('');
  const [authMethod, setAuthMethod] = useState<SshAuthMethod>('password');
  const [password, setPassword] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [nbdHost, setNbdHost] = useState('');
  const [nbdPort, setNbdPort] = useState('10809');
  const [apiPort, setApiPort] = useState('8081');
  const [callbackPort, setCallbackPort] = useState('8082');
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = 'Name is required';
    if (!host.trim()) errs.host = 'Host is required';
    if (!username.trim()) errs.username = 'Username is required';
    const p = parsePort(port);
    if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > 65535)) errs.port = 'Port must be a whole number from 1 to 65535';
    if (authMethod === 'password' && !password) errs.password = 'Password is required for password authentication';
    if (authMethod === 'private_key' && !privateKey.trim()) errs.privateKey = 'A private key is required for key authentication';
    const np = parsePort(nbdPort);
    if (kind === 'oma' && np !== undefined && (!Number.isInteger(np) || np < 1 || np > 65535))
      errs.nbdPort = 'NBD port must be a whole number from 1 to 65535';
    const ap = parsePort(apiPort);
    const cp = parsePort(callbackPort);
    if (kind === 'vma' && ap !== undefined && (!Number.isInteger(ap) || ap < 1 || ap > 65535))
      errs.apiPort = 'API port must be a whole number from 1 to 65535';
    if (kind === 'vma' && cp !== undefined && (!Number.isInteger(cp) || cp < 1 || cp > 65535))
      errs.callbackPort = 'Callback port must be a whole number from 1 to 65535';
    setLocal(errs);
    if (Object.keys(errs).length > 0) return;
    const input: ApplianceInput = {
      kind,
      name: name.trim(),
      host: host.trim(),
      username: username.trim(),
      authMethod,
      ...(p !== undefined ? { port: p } : {}),
      ...(authMethod === 'password' ? { password } : { privateKey, ...(passphrase ? { passphrase } : {}) }),
      ...(kind === 'vma' && ap !== undefined ? { apiPort: ap } : {}),
      ...(kind === 'vma' && cp !== undefined ? { callbackPort: cp } : {}),
      ...(kind === 'oma' && nbdHost.trim() ? { nbdHost: nbdHost.trim() } : {}),
      ...(kind === 'oma' && np !== undefined ? { nbdPort: np } : {}),
    };
    setBusy(true);
    setError(null);
    const r = await api().invoke('appliances:add', input);
    setBusy(false);
    if (r.ok) {
      setName('');
      setHost('');
      setPassword('');
      setPrivateKey('');
      setPassphrase('');
      onAdded();
    } else setError(r.error);
  };
  const errors = { ...fieldErrors(error), ...local };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label="Add appliance">
      <div className="form-row">
        <Field label="Kind">
          <select value={kind} onChange={(e) => setKind(e.target.value as ApplianceKind)}>
            <option value="vma">VMA (VMware side)</option>
            <option value="oma">OMA (CloudStack side)</option>
          </select>
        </Field>
        <TextField label="Name" name="name" value={name} onValue={setName} errors={errors} />
        <TextField label="Host" name="host" value={host} onValue={setHost} errors={errors} placeholder="host name or IP" />
        <TextField label="SSH port" name="port" value={port} onValue={setPort} errors={errors} className="narrow" inputMode="numeric" />
        <TextField label="Username" name="username" value={username} onValue={setUsername} errors={errors} autoComplete="off" />
      </div>
      <div className="form-row">
        <Field label="Authentication">
          <select value={authMethod} onChange={(e) => setAuthMethod(e.target.value as SshAuthMethod)}>
            <option value="password">Password</option>
            <option value="private_key">Private key</option>
          </select>
        </Field>
        {authMethod === 'password' ? (
          <TextField label="Password" name="password" value={password} onValue={setPassword} errors={errors} type="password" autoComplete="new-password" />
        ) : (
          <>
            <Field label="Private key" className="wide" error={errors.privateKey}>
              <textarea
                value={privateKey}
                onChange={(e) => setPrivateKey(e.target.value)}
                rows={4}
                spellCheck={false}
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              />
            </Field>
            <TextField label="Passphrase" name="passphrase" value={passphrase} onValue={setPassphrase} errors={errors} type="password" autoComplete="new-password" />
          </>
        )}
        {kind === 'vma' && (
          <>
            <TextField label="API port" name="apiPort" value={apiPort} onValue={setApiPort} errors={errors} className="narrow" inputMode="numeric" />
            <TextField label="Callback port" name="callbackPort" value={callbackPort} onValue={setCallbackPort} errors={errors} className="narrow" inputMode="numeric" />
          </>
        )}
        {kind === 'oma' && (
          <>
            <TextField label="NBD host (as the VMA reaches it)" name="nbdHost" value={nbdHost} onValue={setNbdHost} errors={errors} />
            <TextField label="NBD port" name="nbdPort" value={nbdPort} onValue={setNbdPort} errors={errors} className="narrow" inputMode="numeric" />
          </>
        )}
      </div>
      {error && error.code !== 'validation' && <ErrorBox error={error} />}
      {error && error.code === 'validation' && <div className="field-error block">{error.message}</div>}
      <button type="submit" className="btn primary" disabled={busy}>
        {busy ? 'Adding…' : 'Add appliance'}
      </button>
    </form>
  );
}

/** Asks before pinning a key offered on first use; a changed key goes through HostKeyChanged instead. */
function TrustDialog({ appliance, state, onDone }: { appliance: Appliance; state: TunnelState; onDone: () => void }) {
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (state.errorCode !== 'host_key_untrusted' || !state.offeredFingerprint || dismissed === state.offeredFingerprint) return null;
  const fp = state.offeredFingerprint;
  const trust = async () => {
    setBusy(true);
    setError(null);
    const r = await api().invoke('appliances:trust-host-key', { id: appliance.id, fingerprint: fp });
    setBusy(false);
    if (r.ok) onDone();
    else setError(r.error);
  };
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label="Trust host key">
        <h3>Trust the host key of {appliance.name}?</h3>
        <p>
          {appliance.host}:{appliance.port} offered this SSH host key. Compare it with the fingerprint on the appliance console
          before trusting it.
        </p>
        <code className="fingerprint">{fp}</code>
        {error && <ErrorBox error={error} />}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={() => setDismissed(fp)}>
            Cancel
          </button>
          <button type="button" className="btn primary" disabled={busy} onClick={() => void trust()}>
            Trust
          </button>
        </div>
      </div>
    </div>
  );
}

/** The pinned and the offered fingerprint of a changed host key, and the explicit way to re-trust. */
function HostKeyChanged(props: { expected: string | null; offered: string | null; busy: boolean; onRetrust: () => void }) {
  const { expected, offered, busy, onRetrust } = props;
  return (
    <div className="error-box" role="alert" data-code="host_key_mismatch" data-testid="host-key-changed">
      <strong>Host key changed.</strong> Nothing connects to this appliance until the new key is trusted. Make sure the appliance
      was reinstalled or re-keyed on purpose before re-trusting it.
      <div className="small">
        Pinned: <code data-testid="expected-fingerprint">{expected ?? 'unknown'}</code>
      </div>
      <div className="small">
        Offered: <code data-testid="offered-fingerprint">{offered ?? 'unknown'}</code>
      </div>
      {/* Forgetting the key alone would leave the row idle; connecting again brings up the trust prompt. */}
      <button type="button" className="btn danger small" disabled={busy} onClick={onRetrust}>
        Re-trust (forget the pinned key)
      </button>
    </div>
  );
}

/** The row's short status; the reason goes on its own, wrapping line. */
function tunnelLabel(t: TunnelState): string {
  if (t.state === 'failed' && t.errorCode === 'host_key_mismatch') return 'failed: host key changed';
  if (t.state === 'failed' && t.errorCode === 'host_key_untrusted') return 'failed: host key not trusted yet';
  if (t.state === 'backoff') return `backoff, next attempt ${formatTime(t.nextAttemptAt)}`;
  return t.state;
}

/** Corrects an appliance's SSH address or login in place; a new host or port asks for host-key trust again. */
function EditAppliance({ appliance, onDone }: { appliance: Appliance; onDone: (changed: boolean) => void }) {
  const [v, setV] = useState({ name: appliance.name, host: appliance.host, port: String(appliance.port), username: appliance.username, secret: '' });
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);
  const usesKey = appliance.authMethod === 'private_key';
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await api().invoke('appliances:update', {
      id: appliance.id,
      name: v.name.trim(),
      host: v.host.trim(),
      port: Number(v.port),
      username: v.username.trim(),
      ...(v.secret ? (usesKey ? { privateKey: v.secret } : { password: v.secret }) : {}),
    });
    setBusy(false);
    if (r.ok) onDone(true);
    else setError(r.error);
  };
  const errors = fieldErrors(error);
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV((x) => ({ ...x, [k]: e.target.value }));
  return (
    <form className="form" onSubmit={(e) => void save(e)} aria-label={`Edit appliance ${appliance.name}`}>
      <div className="form-row">
        <Field label="Name" error={errors.name}>
          <input value={v.name} onChange={set('name')} />
        </Field>
        <Field label="Host" error={errors.host}>
          <input value={v.host} onChange={set('host')} />
        </Field>
        <Field label="SSH port" error={errors.port}>
          <input value={v.port} onChange={set('port')} inputMode="numeric" />
        </Field>
        <Field label="Username" error={errors.username}>
          <input value={v.username} onChange={set('username')} />
        </Field>
        <Field label={usesKey ? 'New private key' : 'New password'} error={errors[usesKey ? 'privateKey' : 'password']}>
          <input type="password" value={v.secret} onChange={set('secret')} placeholder="leave empty to keep" autoComplete="new-password" />
        </Field>
      </div>
      <FormError error={error} />
      <p className="muted small">Saving closes the tunnel; a new host or port asks you to trust the host key again.</p>
      <SaveCancel busy={busy} onCancel={() => onDone(false)} />
    </form>
  );
}

type RowAction = 'appliances:connect' | 'appliances:disconnect' | 'appliances:forget-host-key' | 'appliances:remove';

function ApplianceRow({ appliance, onChanged }: { appliance: Appliance; onChanged: () => void }) {
  const tunnel = useLive((s) => s.tunnelsByAppliance[appliance.id]);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);
  // A connect waits up to its timeout for ready or failed; it never locks Disconnect or Remove meanwhile.
  const [connecting, setConnecting] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [editing, setEditing] = useState(false);
  const usedBy = useLive((s) => s.contextIds.filter((id) => s.contextsById[id]?.vmaApplianceId === appliance.id).length);
  const call = async (channel: RowAction): Promise<boolean> => {
    setError(null);
    const r = await api().invoke(channel, { id: appliance.id });
    if (!r.ok) setError(r.error);
    onChanged();
    return r.ok;
  };
  // One action at a time per row: a connect waits until the link is ready or has failed.
  const run = async (...channels: RowAction[]) => {
    setBusy(true);
    try {
      for (const channel of channels) if (!(await call(channel))) break;
    } finally {
      setBusy(false);
    }
  };
  const connect = async () => {
    setConnecting(true);
    try {
      await call('appliances:connect');
    } finally {
      setConnecting(false);
    }
  };
  const tunnelMismatch = tunnel?.state === 'failed' && tunnel.errorCode === 'host_key_mismatch';
  const errorMismatch = error?.code === 'host_key_mismatch';
  const details = (errorMismatch ? error.details : null) as { expectedFingerprint?: string; offeredFingerprint?: string; expected?: string; offered?: string } | null;
  const expected = details?.expectedFingerprint ?? details?.expected ?? appliance.hostKeyFingerprint;
  const offered = details?.offeredFingerprint ?? details?.offered ?? tunnel?.offeredFingerprint ?? null;
  return (
    <tr data-appliance={appliance.name} aria-busy={busy || connecting}>
      <td>
        <strong>{appliance.name}</strong>
        <div className="muted small">{appliance.kind.toUpperCase()}</div>
      </td>
      <td className="mono">
        {appliance.username}@{appliance.host}:{appliance.port}
        {appliance.kind === 'vma' && (
          <div className="muted small">
            API {appliance.apiPort} · callback {appliance.callbackPort}
          </div>
        )}
        {appliance.kind === 'oma' && appliance.nbdHost && (
          <div className="muted small">
            NBD {appliance.nbdHost}:{appliance.nbdPort ?? 10809}
          </div>
        )}
        {appliance.kind === 'oma' && appliance.nbdAccess && (
          <div className="muted small" data-testid="appliance-nbd-access">
            {nbdAccessText(appliance.nbdAccess)}
          </div>
        )}
      </td>
      <td className="mono small">{appliance.hostKeyFingerprint ?? <span className="muted">not pinned</span>}</td>
      <td>
        {tunnel ? (
          <>
            <span className={`tunnel tunnel-${tunnel.state}`} data-testid="appliance-tunnel" data-state={tunnel.state}>
              <span className="dot" />
              {tunnelLabel(tunnel)}
            </span>
            {tunnel.callbackForward && (
              <div
                className={`small ${tunnel.callbackForward.state === 'refused' ? 'err-text' : 'muted'}`}
                data-testid="appliance-callback-forward"
                data-state={tunnel.callbackForward.state}
              >
                {callbackForwardText(tunnel.callbackForward)}
              </div>
            )}
            {/* The header keeps the reason to one line; here it wraps in full, except for the host-key cases shown below. */}
            {tunnel.reason && !tunnelMismatch && tunnel.errorCode !== 'host_key_untrusted' && (
              <div className={`small ${tunnel.state === 'failed' ? 'err-text' : 'muted'}`} data-testid="appliance-tunnel-reason">
                {tunnel.reason}
              </div>
            )}
          </>
        ) : (
          <span className="muted">disconnected</span>
        )}
        {appliance.reportedIdentity && (
          <div className="muted small" data-testid="appliance-identity">
            reports{' '}
            {Object.entries(appliance.reportedIdentity)
              .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' · ')}
          </div>
        )}
        {error && !errorMismatch && <ErrorBox error={error} />}
        {(tunnelMismatch || errorMismatch) && <HostKeyChanged expected={expected} offered={offered} busy={busy} onRetrust={() => void run('appliances:forget-host-key', 'appliances:connect')} />}
        {tunnel && <TrustDialog appliance={appliance} state={tunnel} onDone={onChanged} />}
        {editing && (
          <EditAppliance
            appliance={appliance}
            onDone={(changed) => {
              setEditing(false);
              if (changed) onChanged();
            }}
          />
        )}
        {confirmRemove && (
          <ConfirmAction
            confirmLabel={`Remove ${appliance.name}`}
            busy={busy}
            onCancel={() => setConfirmRemove(false)}
            onConfirm={() => {
              setConfirmRemove(false);
              void run('appliances:remove');
            }}
          >
            Remove {appliance.kind.toUpperCase()} <strong>{appliance.name}</strong>? Its tunnel is closed and its SSH secret is deleted
            from the secret store.{' '}
            {appliance.kind === 'vma'
              ? usedBy > 0
                ? `${usedBy} managed VM${usedBy === 1 ? '' : 's'} use${usedBy === 1 ? 's' : ''} it and cannot be discovered or replicated until given another VMA.`
                : 'No managed VM uses it.'
              : 'Replication and failover need an OMA appliance: add another before the next sync.'}{' '}
            Replicas already in CloudStack are not touched.
          </ConfirmAction>
        )}
      </td>
      <td className="actions">
        <button type="button" className="btn small" disabled={busy || connecting} onClick={() => void connect()}>
          {connecting ? 'Connecting…' : 'Connect'}
        </button>
        <button type="button" className="btn small" disabled={busy} onClick={() => void run('appliances:disconnect')}>
          Disconnect
        </button>
        <button type="button" className="btn small" disabled={busy || editing} onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" className="btn small ghost" disabled={busy} onClick={() => setConfirmRemove(true)}>
          Remove
        </button>
      </td>
    </tr>
  );
}

export function AppliancesSection() {
  const list = useInvoke('appliances:list', {});
  if (!list.result) return <p className="muted">Loading…</p>;
  if (!list.result.ok) return <ErrorBox error={list.result.error} what="Appliances" />;
  return (
    <>
      {list.result.value.length === 0 ? (
        <p className="muted">No appliances yet. Add the VMA (VMware side) and the OMA (CloudStack side) below.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>Appliance</th>
              <th>SSH</th>
              <th>Pinned host key</th>
              <th>Tunnel</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.result.value.map((a) => (
              <ApplianceRow key={a.id} appliance={a} onChanged={list.reload} />
            ))}
          </tbody>
        </table>
      )}
      <ApplianceForm onAdded={list.reload} />
    </>
  );
}
