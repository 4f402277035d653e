import { SCREENS, useUi } from '../store/ui-store';
import { useConnection } from '../transport/connection';
import { useEffect, useRef } from 'react';
import { useLive } from '../store/contexts-store';
import { useInvoke } from '../lib/use-invoke';
import { formatTime } from '../lib/format';
import { useNow } from '../lib/use-now';
import type { TunnelState } from '../../../shared/domain';
import { callbackForwardText } from '../../../shared/callback-forward-text';

function secondsUntil(iso: string | null, now: number): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
  return `${s}s`;
}

function ConnectionIndicator() {
  const c = useConnection();
  const now = useNow(1000);
  const transport = c.transport === 'electron' ? 'Electron' : 'Dev bridge';
  const text =
    c.phase === 'connected'
      ? 'connected'
      : c.phase === 'connecting'
        ? 'connecting…'
        : c.phase === 'reconnecting'
          ? `reconnecting${c.nextAttemptAt ? ` in ${secondsUntil(c.nextAttemptAt, now)}` : '…'}`
          : 'not authorised';
  return (
    <div className={`conn conn-${c.phase}`} data-testid="connection-status" title={c.detail ?? undefined}>
      <span className="dot" />
      <span className="conn-transport">{transport}</span>
      <span className="conn-text">{text}</span>
    </div>
  );
}

export function tunnelText(t: TunnelState): string {
  // A ready link whose callback forward is not (yet) bound cannot start copies: say so beside "ready".
  // A bound forward is the normal case and reads plain "ready" (its detail is in the tooltip).
  if (t.state === 'ready' && t.callbackForward && t.callbackForward.state !== 'bound') return `ready · ${callbackForwardText(t.callbackForward)}`;
  switch (t.state) {
    case 'backoff':
      return `backoff, next attempt ${formatTime(t.nextAttemptAt)}${t.reason ? ` (${t.reason})` : ''}`;
    case 'failed':
      return `failed: ${t.reason ?? 'unknown reason'}`;
    default:
      return t.state;
  }
}

/** The tooltip: the header text plus the callback forward even when it is bound. */
export function tunnelTitle(t: TunnelState): string {
  const text = tunnelText(t);
  const forward = callbackForwardText(t.callbackForward);
  return forward && !text.includes(forward) ? `${text} · ${forward}` : text;
}

function TunnelDots() {
  const tunnels = useLive((s) => s.tunnelsByAppliance);
  const appliances = useInvoke('appliances:list', {});
  const names = new Map<string, string>();
  if (appliances.result?.ok) for (const a of appliances.result.value) names.set(a.id, a.name);
  const list = Object.values(tunnels);
  // A tunnel of an appliance added since the list was loaded would show its bare id: load the names
  // again, once per set of unknown ids (an appliance that was removed stays unknown).
  const unknown = appliances.result?.ok
    ? list
        .map((t) => t.applianceId)
        .filter((id) => !names.has(id))
        .sort()
        .join(',')
    : '';
  const reloadedFor = useRef('');
  const { reload } = appliances;
  useEffect(() => {
    if (unknown && reloadedFor.current !== unknown) {
      reloadedFor.current = unknown;
      reload();
    }
  }, [unknown, reload]);
  if (list.length === 0) return <div className="tunnels tunnels-empty">No appliance tunnels</div>;
  return (
    <div className="tunnels" data-testid="tunnel-states">
      {list.map((t) => (
        <div key={t.applianceId} className={`tunnel tunnel-${t.state}`} title={tunnelTitle(t)}>
          <span className="dot" />
          <span className="tunnel-name">{names.get(t.applianceId) ?? t.applianceId}</span>
          <span className="tunnel-text">{tunnelText(t)}</span>
        </div>
      ))}
    </div>
  );
}

/** The window title: the lab says so, so it is never taken for the operator's own console. */
export function documentTitle(lab: boolean): string {
  return lab ? `${LAB_LABEL} — MigrateKit Console` : 'MigrateKit Console';
}
export const LAB_LABEL = 'EMBEDDED LAB';

/** Shown on every screen while the console runs over the embedded lab (simulated appliances, temporary data). */
function LabBadge({ dataDir }: { dataDir: string }) {
  return (
    <span className="lab-badge" data-testid="lab-badge" title={`Simulated VMA and CloudStack; temporary data directory ${dataDir}, removed when the lab stops`}>
      {LAB_LABEL}
    </span>
  );
}

export function Header() {
  const screen = useUi((s) => s.screen);
  const title = SCREENS.find((s) => s.id === screen)?.label ?? '';
  const info = useInvoke('app:info', {});
  const lab = info.result?.ok ? info.result.value.lab : false;
  useEffect(() => {
    document.title = documentTitle(lab);
  }, [lab]);
  return (
    <header className={lab ? 'header header-lab' : 'header'}>
      <h1>
        {title}
        {lab && info.result?.ok && <LabBadge dataDir={info.result.value.dataDir} />}
      </h1>
      <div className="header-status">
        <TunnelDots />
        <ConnectionIndicator />
      </div>
    </header>
  );
}
