import { useEffect, useState } from 'react';
import type { DesktopSettings, OwnerView } from '../../../shared/contract';
import { NOTIFICATION_LEVELS, type NotificationLevel } from '../../../shared/domain';
import { formatDateTimeLong } from '../lib/format';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { api } from '../transport/api';
import { ErrorBox } from '../components/ErrorBox';

const NOTIFICATION_LABELS: Record<NotificationLevel, string> = {
  off: 'Off',
  failures: 'Failures only',
  all: 'Completions and failures',
};

/** Notifications and start at login; the desktop app acts on them, the browser console only stores them. */
export function DesktopSection() {
  const settings = useInvoke('desktop:get-settings', {});
  const [error, setError] = useState<AppErrorShape | null>(null);
  // Shown at once on change (a controlled checkbox must follow the click), then replaced by what the core saved.
  const [s, setS] = useState<DesktopSettings | null>(null);
  useEffect(() => {
    if (settings.result?.ok) setS(settings.result.value);
  }, [settings.result]);
  const save = async (patch: Partial<DesktopSettings>) => {
    setError(null);
    setS((cur) => (cur ? { ...cur, ...patch } : cur));
    const r = await api().invoke('desktop:save-settings', patch);
    if (r.ok) setS(r.value);
    else {
      setError(r.error);
      settings.reload();
    }
  };
  if (settings.result && !settings.result.ok) return <ErrorBox error={settings.result.error} what="desktop settings" />;
  if (!s) return null;
  return (
    <div className="form" aria-label="Desktop settings">
      <div className="form-row">
        <label className="fit">
          Notifications
          <select aria-label="Notifications" value={s.notifications} onChange={(e) => void save({ notifications: e.target.value as NotificationLevel })}>
            {NOTIFICATION_LEVELS.map((l) => (
              <option key={l} value={l}>
                {NOTIFICATION_LABELS[l]}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={s.openAtLogin} onChange={(e) => void save({ openAtLogin: e.target.checked })} /> Start at login, hidden in the tray
        </label>
      </div>
      {error && <ErrorBox error={error} what="desktop settings" />}
    </div>
  );
}

/** Who owns the data directory, as Settings/About says it. */
export function ownerText(o: OwnerView): string {
  if (o.state === 'owned') return `${o.transport ?? 'a process'} (pid ${o.pid}, since ${o.since ? formatDateTimeLong(o.since) : 'unknown'})`;
  return `unknown${o.detail ? ` — ${o.detail}` : ''}`;
}

/** Where things are: data directory, log file, secret store, owner, version. */
export function AboutSection() {
  const info = useInvoke('app:info', {});
  if (info.result && !info.result.ok) return <ErrorBox error={info.result.error} what="about" />;
  const v = info.result?.value;
  if (!v) return null;
  const rows: [string, string][] = [
    ['Version', `MigrateKit Console ${v.version} (schema v${v.schemaVersion})`],
    ['Data directory', v.dataDir],
    ['Log file', v.logFile ?? 'not written by this host'],
    ['Secret store', v.secretStore.problem ? `${v.secretStore.label} — unavailable: ${v.secretStore.problem}` : v.secretStore.label],
    ['Engine owner', ownerText(v.owner)],
    ...(v.lab ? ([['Environment', 'embedded lab: simulated appliances, temporary data directory removed when the lab stops']] as [string, string][]) : []),
    ['Schedules', v.schedulesActive ? 'active while the console runs' : 'not running'],
  ];
  return (
    <dl className="kv about" data-testid="about">
      {rows.map(([k, val]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd title={val}>{val}</dd>
        </div>
      ))}
    </dl>
  );
}
