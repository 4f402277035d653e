import { useState, type FormEvent } from 'react';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { ErrorBox, fieldErrors } from '../components/ErrorBox';
import { Field as FormField } from '../components/Field';
import { formatTime } from '../lib/format';

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
      {error && (error.code === 'validation' ? <div className="field-error block">{error.message}</div> : <ErrorBox error={error} />)}
      <button type="submit" className="btn primary" disabled={busy}>
        {busy ? 'Saving…' : 'Add credential'}
      </button>
    </form>
  );
}

export function CredentialsSection() {
  const list = useInvoke('credentials:list', {});
  const [error, setError] = useState<AppErrorShape | null>(null);
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
            {list.result.value.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{c.vcenterHost}</td>
                <td>{c.datacenter}</td>
                <td>{c.username}</td>
                <td>{c.hasSecret ? 'stored in the secret store' : <span className="err-text">missing</span>}</td>
                <td>{formatTime(c.updatedAt)}</td>
                <td className="actions">
                  <button type="button" className="btn small ghost" onClick={() => void remove(c.id)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CredentialForm onAdded={list.reload} />
    </>
  );
}
