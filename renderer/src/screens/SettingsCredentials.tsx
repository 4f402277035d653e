import { useState, type FormEvent } from 'react';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { SaveCancel } from '../components/SaveCancel';
import { ErrorBox, FormError, fieldErrors } from '../components/ErrorBox';
import { Field as FormField } from '../components/Field';
import { formatTime } from '../lib/format';
import { ConfirmAction } from '../components/Confirm';
import { useLive } from '../store/contexts-store';
import type { VcenterCredential } from '../../../shared/domain';
import type { ConnectionTestResult } from '../../../shared/contract';

const FIELDS = [
  ['name', 'Name', 'text'],
  ['vcenterHost', 'vCenter host', 'text'],
  ['datacenter', 'Datacenter', 'text'],
  ['username', 'Username', 'text'],
  ['password', 'Password', 'password'],
] as const;
type Field = (typeof FIELDS)[number][0];

function CredentialForm({ onAdded }: { onAdded: () => void }) {
  const [values, setValues] = useState<Record<Field, string>>({ name: '', vcenterHost: '', datacenter: '', username: '', password: '' });
  const [local, setLocal] = useState<Record<string, string>>({});
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    for (const [k, label] of FIELDS) if (!values[k].trim()) errs[k] = `${label} is required`;
    setLocal(errs);
    if (Object.keys(errs).length > 0) return;
    setBusy(true);
    setError(null);
    const r = await api().invoke('credentials:add', {
      name: values.name.trim(),
      vcenterHost: values.vcenterHost.trim(),
      datacenter: values.datacenter.trim(),
      username: values.username.trim(),
      password: values.password,
    });
    setBusy(false);
    if (r.ok) {
      setValues({ name: '', vcenterHost: '', datacenter: '', username: '', password: '' });
      onAdded();
    } else setError(r.error);
  };
  const errors = { ...fieldErrors(error), ...local };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label="Add vCenter credential">
      <div className="form-row">
        {FIELDS.map(([k, label, type]) => (
          <FormField key={k} label={label} error={errors[k]}>
            <input
              type={type}
              value={values[k]}
              autoComplete={type === 'password' ? 'new-password' : 'off'}
              onChange={(e) => setValues((v) => ({ ...v, [k]: e.target.value }))}
            />
          </FormField>
        ))}
      </div>
      <FormError error={error} />
      <button type="submit" className="btn primary" disabled={busy}>
        {busy ? 'Saving…' : 'Add credential'}
      </button>
    </form>
  );
}

/** Edits a credential in place; an empty password keeps the stored one. */
function EditCredential({ credential, onDone }: { credential: VcenterCredential; onDone: (changed: boolean) => void }) {
  const [values, setValues] = useState<Record<Field, string>>({
    name: credential.name,
    vcenterHost: credential.vcenterHost,
    datacenter: credential.datacenter,
    username: credential.username,
    password: '',
  });
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await api().invoke('credentials:update', {
      id: credential.id,
      name: values.name.trim(),
      vcenterHost: values.vcenterHost.trim(),
      datacenter: values.datacenter.trim(),
      username: values.username.trim(),
      ...(values.password ? { password: values.password } : {}),
    });
    setBusy(false);
    if (r.ok) onDone(true);
    else setError(r.error);
  };
  const errors = fieldErrors(error);
  return (
    <form className="form" onSubmit={(e) => void save(e)} aria-label={`Edit vCenter credential ${credential.name}`}>
      <div className="form-row">
        {FIELDS.map(([k, label, type]) => (
          <FormField key={k} label={k === 'password' ? 'New password' : label} error={errors[k]}>
            <input
              type={type}
              value={values[k]}
              placeholder={k === 'password' ? 'leave empty to keep' : undefined}
              autoComplete={type === 'password' ? 'new-password' : 'off'}
              onChange={(e) => setValues((v) => ({ ...v, [k]: e.target.value }))}
            />
          </FormField>
        ))}
      </div>
      <FormError error={error} />
      <SaveCancel busy={busy} onCancel={() => onDone(false)} />
    </form>
  );
}

/** Logs in to vCenter through the VMA and shows the answer. */
function TestCredential({ credential }: { credential: VcenterCredential }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ConnectionTestResult | null>(null);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const run = async () => {
    setBusy(true);
    setResult(null);
    setError(null);
    const r = await api().invoke('credentials:test', { id: credential.id });
    setBusy(false);
    if (r.ok) setResult(r.value);
    else setError(r.error);
  };
  return (
    <>
      <button type="button" className="btn small" disabled={busy} onClick={() => void run()}>
        {busy ? 'Testing…' : 'Test'}
      </button>
      {(result || error) && (
        <div className="credential-test" data-testid="credential-test">
          {error && <ErrorBox error={error} />}
          {result?.checks.map((c) => (
            <div key={c.name} className={c.ok ? 'check ok' : 'check fail'} data-ok={c.ok}>
              <span className="check-mark">{c.ok ? '✓' : '✗'}</span> <strong>{c.name}</strong> {c.message}
            </div>
          ))}
        </div>
      )}
    </>
  );
}

/** What removing a credential does, said before it happens. */
function RemoveCredential({ credential, onRemove, onCancel }: { credential: VcenterCredential; onRemove: () => void; onCancel: () => void }) {
  const usedBy = useLive((s) => s.contextIds.filter((id) => s.contextsById[id]?.credentialId === credential.id).length);
  return (
    <ConfirmAction confirmLabel={`Remove ${credential.name}`} onConfirm={onRemove} onCancel={onCancel}>
      Remove vCenter credential <strong>{credential.name}</strong>? Its password is deleted from the secret store.{' '}
      {usedBy > 0
        ? `${usedBy} managed VM${usedBy === 1 ? '' : 's'} use${usedBy === 1 ? 's' : ''} it and cannot be discovered, replicated or powered off for a live failover until given another credential.`
        : 'No managed VM uses it.'}
    </ConfirmAction>
  );
}

export function CredentialsSection() {
  const list = useInvoke('credentials:list', {});
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  if (!list.result) return <p className="muted">Loading…</p>;
  if (!list.result.ok) return <ErrorBox error={list.result.error} what="vCenter credentials" />;
  const remove = async (id: string) => {
    setError(null);
    const r = await api().invoke('credentials:remove', { id });
    if (!r.ok) setError(r.error);
    list.reload();
  };
  return (
    <>
      {error && <ErrorBox error={error} />}
      {list.result.value.length === 0 ? (
        <p className="muted">No vCenter credentials yet.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>vCenter</th>
              <th>Datacenter</th>
              <th>Username</th>
              <th>Password</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.result.value.map((c) =>
              editing === c.id ? (
                <tr key={c.id} data-credential={c.name}>
                  <td colSpan={7}>
                    <EditCredential
                      credential={c}
                      onDone={(changed) => {
                        setEditing(null);
                        if (changed) list.reload();
                      }}
                    />
                  </td>
                </tr>
              ) : (
              <tr key={c.id} data-credential={c.name}>
                <td>{c.name}</td>
                <td>{c.vcenterHost}</td>
                <td>{c.datacenter}</td>
                <td>{c.username}</td>
                <td>{c.hasSecret ? 'stored in the secret store' : <span className="err-text">missing</span>}</td>
                <td>{formatTime(c.updatedAt)}</td>
                <td className="actions">
                  {confirming === c.id ? (
                    <RemoveCredential
                      credential={c}
                      onCancel={() => setConfirming(null)}
                      onRemove={() => {
                        setConfirming(null);
                        void remove(c.id);
                      }}
                    />
                  ) : (
                    <>
                      <TestCredential credential={c} />
                      <button type="button" className="btn small" onClick={() => setEditing(c.id)}>
                        Edit
                      </button>
                      <button type="button" className="btn small ghost" onClick={() => setConfirming(c.id)}>
                        Remove
                      </button>
                    </>
                  )}
                </td>
              </tr>
              ),
            )}
          </tbody>
        </table>
      )}
      <CredentialForm onAdded={list.reload} />
    </>
  );
}
