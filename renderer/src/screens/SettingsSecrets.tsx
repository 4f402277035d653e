import { useInvoke } from '../lib/use-invoke';
import { ErrorBox } from '../components/ErrorBox';
import { storeTitle, unlockerLines } from '../lib/secret-store-summary';

/** Where passwords and keys are kept and what opens them, so the operator knows what mkc needs. */
export function SecretsSection() {
  const status = useInvoke('secrets:status', {});
  if (!status.result) return <p className="muted">Loading…</p>;
  if (!status.result.ok) return <ErrorBox error={status.result.error} />;
  const s = status.result.value;
  return (
    <div aria-label="Secret store">
      <p>{storeTitle(s)}</p>
      {!s.usable && s.reason && <div className="field-error block">{s.reason}</div>}
      <ul>
        {unlockerLines(s).map((l) => (
          <li key={l.name}>
            <strong>{l.name}</strong>: {l.state}
            {l.detail && <span className="muted small"> — {l.detail}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
