import { useEffect, useState, type FormEvent } from 'react';
import type { CloudStackConfigInput, CloudStackConfigView, CloudStackOption, CloudStackOptions, ConnectionTestResult } from '../../../shared/contract';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { Field } from '../components/Field';
import { ErrorBox, FormError, fieldErrors } from '../components/ErrorBox';

type SelectKey = 'zoneId' | 'diskOfferingId' | 'serviceOfferingId' | 'templateId' | 'defaultNetworkId' | 'omaVmId';
const SELECTS: [SelectKey, string, keyof CloudStackOptions][] = [
  ['zoneId', 'Zone', 'zones'],
  ['diskOfferingId', 'Disk offering', 'diskOfferings'],
  ['serviceOfferingId', 'Service offering', 'serviceOfferings'],
  ['templateId', 'Template', 'templates'],
  ['defaultNetworkId', 'Default network', 'networks'],
  ['omaVmId', 'OMA appliance VM', 'virtualMachines'],
];

function CloudStackForm({ config, onSaved }: { config: CloudStackConfigView; onSaved: () => void }) {
  const [apiUrl, setApiUrl] = useState(config.apiUrl ?? '');
  const [apiKey, setApiKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [picks, setPicks] = useState<Record<SelectKey, string>>({
    zoneId: config.zoneId ?? '',
    diskOfferingId: config.diskOfferingId ?? '',
    serviceOfferingId: config.serviceOfferingId ?? '',
    templateId: config.templateId ?? '',
    defaultNetworkId: config.defaultNetworkId ?? '',
    omaVmId: config.omaVmId ?? '',
  });
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [saved, setSaved] = useState(false);
  const [test, setTest] = useState<ConnectionTestResult | null>(null);
  const [testError, setTestError] = useState<AppErrorShape | null>(null);
  const [testing, setTesting] = useState(false);
  const options = useInvoke('cloudstack:options', config.apiUrl && config.hasKeys ? {} : null);
  // Names from the last successful load, so a saved choice still reads as a name (not a bare id)
  // while CloudStack cannot be asked, e.g. after a wrong key was saved.
  const [known, setKnown] = useState<CloudStackOptions | null>(null);
  useEffect(() => {
    if (options.result?.ok) setKnown(options.result.value);
  }, [options.result]);

  // "Saved." describes the form as saved; any edit after that makes it stale. (Clearing it in an effect
  // on the field values hid it at once, because saving itself empties the key fields.)

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const input: CloudStackConfigInput = {
      apiUrl: apiUrl.trim(),
      ...(apiKey ? { apiKey } : {}),
      ...(secretKey ? { secretKey } : {}),
      ...Object.fromEntries(SELECTS.map(([k]) => [k, picks[k] || null])),
    };
    const r = await api().invoke('cloudstack:save-config', input);
    if (r.ok) {
      setApiKey('');
      setSecretKey('');
      setSaved(true);
      onSaved();
      options.reload();
      // A save is checked at once: a configuration that cannot work is saved, and says so.
      await runTest();
    } else setError(r.error);
  };
  const runTest = async () => {
    setTesting(true);
    setTest(null);
    setTestError(null);
    const r = await api().invoke('cloudstack:test', {});
    setTesting(false);
    if (r.ok) setTest(r.value);
    else setTestError(r.error);
  };
  const errors = fieldErrors(error);
  const opts = options.result?.ok ? options.result.value : null;
  return (
    <form className="form" onSubmit={(e) => void save(e)} aria-label="CloudStack connection">
      <div className="form-row">
        <Field label="API URL" className="wide" error={errors.apiUrl}>
          <input value={apiUrl} onChange={(e) => (setSaved(false), setApiUrl(e.target.value))} placeholder="https://cloud.example/client/api" />
        </Field>
        <Field label="API key" error={errors.apiKey}>
          <input type="password" value={apiKey} onChange={(e) => (setSaved(false), setApiKey(e.target.value))} placeholder={config.hasKeys ? 'stored; empty keeps it' : ''} autoComplete="off" />
        </Field>
        <Field label="Secret key" error={errors.secretKey}>
          <input type="password" value={secretKey} onChange={(e) => (setSaved(false), setSecretKey(e.target.value))} placeholder={config.hasKeys ? 'stored; empty keeps it' : ''} autoComplete="off" />
        </Field>
      </div>
      {options.result && !options.result.ok && <ErrorBox error={options.result.error} what="CloudStack options" />}
      {!config.hasKeys && <p className="muted small">Save the API URL and keys first; the zone, offerings and networks are then loaded from CloudStack.</p>}
      <div className="form-row">
        {SELECTS.map(([k, label, list]) => {
          const items: CloudStackOption[] = opts ? opts[list] : [];
          return (
            // Option names carry details ("Custom (custom CPU and memory)"): the select grows to show them.
            <Field key={k} label={label} error={errors[k]} className="fit">
              <select value={picks[k]} disabled={!opts} onChange={(e) => (setSaved(false), setPicks((p) => ({ ...p, [k]: e.target.value })))}>
                <option value="">— not set —</option>
                {items.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                    {o.detail ? ` (${o.detail})` : ''}
                  </option>
                ))}
                {picks[k] && !items.some((o) => o.id === picks[k]) && (
                  <option value={picks[k]}>{known?.[list].find((o) => o.id === picks[k])?.name ?? picks[k]}</option>
                )}
              </select>
            </Field>
          );
        })}
      </div>
      <FormError error={error} />
      {saved && test && !test.ok ? (
        <div className="notice warn" role="status" data-testid="cloudstack-saved-with-problems">
          Saved, with problems: {test.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')} failed. Replication and failover will fail until they pass.
        </div>
      ) : saved && testError ? (
        <div className="notice warn" role="status" data-testid="cloudstack-saved-with-problems">
          Saved, but the connection could not be checked (see below).
        </div>
      ) : (
        saved && !testing && <div className="success">Saved.</div>
      )}
      <div className="form-actions">
        <button type="submit" className="btn primary">
          Save
        </button>
        <button type="button" className="btn" disabled={testing} onClick={() => void runTest()}>
          {testing ? 'Testing…' : 'Test connection'}
        </button>
      </div>
      {testError && <ErrorBox error={testError} />}
      {test && (
        <ul className="checks" data-testid="cloudstack-checks">
          {test.checks.map((c) => (
            <li key={c.name} className={c.ok ? 'check ok' : 'check fail'}>
              <span className="check-mark">{c.ok ? '✓' : '✗'}</span> <strong>{c.name}</strong> {c.message}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

export function CloudStackSection() {
  const config = useInvoke('cloudstack:get-config', {});
  if (!config.result) return <p className="muted">Loading…</p>;
  if (!config.result.ok) return <ErrorBox error={config.result.error} what="CloudStack" />;
  return <CloudStackForm config={config.result.value} onSaved={config.reload} />;
}
