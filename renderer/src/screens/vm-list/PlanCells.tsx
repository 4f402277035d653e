// VM table cells fed by the scheduler's per-VM plan: replica age against the tightest group target,
// the next scheduled sync, and the groups. Over target is said in words, not only in colour.
import type { VmContextSummary } from '../../../../shared/domain';
import { useClock } from '../../lib/clock';
import { formatAge, formatDateTimeLong, formatTimeShort } from '../../lib/format';
import { ageStanding, formatTarget } from '../../lib/vm-columns';
import { groupsText } from '../../lib/vm-list';
import { usePlans } from '../../store/schedule-plans';

const STANDING_WORD = { over: 'over', never: 'over', near: 'near', within: 'within', none: '' } as const;

export function ReplicaAgeCell({ c }: { c: VmContextSummary }) {
  const now = useClock(1000);
  const plan = usePlans((s) => s.byContextId[c.id]);
  const target = plan?.replicaAgeTargetSeconds ?? null;
  const standing = ageStanding(c.lastSuccessfulSyncAt, target, now);
  const ageText = c.lastSuccessfulSyncAt ? formatAge(c.lastSuccessfulSyncAt, now) : 'no replica';
  const title = [
    c.lastSuccessfulSyncAt ? `Last good sync ${formatDateTimeLong(c.lastSuccessfulSyncAt)}` : 'No replica yet',
    target !== null ? `group target ${formatTarget(target)}: ${standing === 'within' ? 'within target' : standing === 'near' ? 'near the target' : 'over target'}` : 'no replica-age target (no group sets one)',
  ].join('; ');
  return (
    <span className={`age age-${standing}`} title={title} data-standing={standing}>
      {/* The time carries its own hover (the absolute time, as the last-sync cell's); the surrounding span's hover says how it stands against the target. */}
      {c.lastSuccessfulSyncAt ? (
        <time dateTime={c.lastSuccessfulSyncAt} title={formatDateTimeLong(c.lastSuccessfulSyncAt)}>
          {ageText}
        </time>
      ) : (
        <span className="muted">{ageText}</span>
      )}
      {(standing === 'over' || standing === 'never' || standing === 'near') && target !== null && (
        <span className={`age-flag age-flag-${standing === 'near' ? 'near' : 'over'}`}>
          {STANDING_WORD[standing]} {formatTarget(target)}
        </span>
      )}
    </span>
  );
}

export function NextSyncCell({ c }: { c: VmContextSummary }) {
  const plan = usePlans((s) => s.byContextId[c.id]);
  const loaded = usePlans((s) => s.loaded);
  if (!loaded) return <span className="muted">…</span>;
  if (!plan?.nextSyncAt) {
    const why = plan?.noSyncReason ?? 'not scheduled';
    return (
      <span className="muted" title={`No scheduled sync: ${why}`}>
        {why === 'in no group' ? 'not scheduled' : why}
      </span>
    );
  }
  return (
    <time dateTime={plan.nextSyncAt} title={`${formatDateTimeLong(plan.nextSyncAt)} (schedule ${plan.nextSyncScheduleName ?? ''})`}>
      {formatTimeShort(plan.nextSyncAt)}
    </time>
  );
}

export function GroupsCell({ contextId }: { contextId: string }) {
  const plan = usePlans((s) => s.byContextId[contextId]);
  if (!plan || plan.groups.length === 0) return <span className="muted">—</span>;
  const text = groupsText(plan);
  return <span title={text}>{text}</span>;
}
