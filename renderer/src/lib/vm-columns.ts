// The VM table's columns: which exist, which the operator chose (kept in localStorage), and which of
// those fit the width at hand. Name, status, last sync and replica age are what an operator scans:
// they are never dropped for width; optional columns go first, lowest priority first.
import type { VmSortKey } from './vm-list';

export const VM_COLUMN_IDS = ['status', 'progress', 'lastSync', 'age', 'nextSync', 'groups', 'power', 'disks', 'cpu'] as const;
export type VmColumnId = (typeof VM_COLUMN_IDS)[number];

export interface VmColumnDef {
  id: VmColumnId;
  label: string;
  sortKey: VmSortKey | null;
  /** CSS grid track. */
  track: string;
  /** Narrowest width in px the track takes (its fixed size or minmax minimum). */
  minPx: number;
  /** Kept at any width (and with the detail panel open). */
  scan: boolean;
  /** Dropped for width in ascending order. */
  priority: number;
  className: string;
}

export const CHECK_TRACK_PX = 36;
export const NAME_MIN_PX = 140;
/** Beside the detail panel the name gives way first: the scan columns keep their width. */
export const PANEL_NAME_MIN_PX = 90;

export const VM_COLUMNS: readonly VmColumnDef[] = [
  { id: 'status', label: 'Status', sortKey: 'status', track: '160px', minPx: 160, scan: true, priority: 100, className: 'col-status' },
  { id: 'progress', label: 'Progress', sortKey: null, track: 'minmax(120px, 2fr)', minPx: 120, scan: false, priority: 60, className: 'col-progress' },
  { id: 'lastSync', label: 'Last sync', sortKey: 'lastSync', track: '170px', minPx: 170, scan: true, priority: 100, className: 'col-lastsync' },
  { id: 'age', label: 'Replica age', sortKey: 'age', track: '160px', minPx: 160, scan: true, priority: 100, className: 'col-age' },
  { id: 'nextSync', label: 'Next sync', sortKey: 'nextSync', track: '170px', minPx: 170, scan: false, priority: 50, className: 'col-nextsync' },
  { id: 'groups', label: 'Groups', sortKey: 'groups', track: 'minmax(100px, 1fr)', minPx: 100, scan: false, priority: 40, className: 'col-groups' },
  { id: 'power', label: 'Power', sortKey: 'power', track: '84px', minPx: 84, scan: false, priority: 30, className: 'col-power' },
  { id: 'disks', label: 'Disks', sortKey: 'disks', track: '110px', minPx: 110, scan: false, priority: 20, className: 'num col-disks' },
  { id: 'cpu', label: 'CPU / Memory', sortKey: 'cpu', track: '140px', minPx: 140, scan: false, priority: 10, className: 'num col-cpu' },
];

export const DEFAULT_VM_COLUMNS: readonly VmColumnId[] = ['status', 'progress', 'lastSync', 'age', 'nextSync', 'groups', 'power', 'disks', 'cpu'];

export const COLUMNS_STORAGE_KEY = 'mkc.vmTable.columns';

/** Pure: a stored choice read back; anything unreadable or unknown falls back to the default set. */
export function parseColumnChoice(raw: string | null): VmColumnId[] {
  if (!raw) return [...DEFAULT_VM_COLUMNS];
  try {
    const v: unknown = JSON.parse(raw);
    if (!Array.isArray(v)) return [...DEFAULT_VM_COLUMNS];
    const known = v.filter((x): x is VmColumnId => (VM_COLUMN_IDS as readonly unknown[]).includes(x));
    return VM_COLUMN_IDS.filter((id) => known.includes(id));
  } catch {
    return [...DEFAULT_VM_COLUMNS];
  }
}

/**
 * Pure: the columns to draw, in table order. With the detail panel open only the scan columns stay.
 * Otherwise optional columns are dropped, lowest priority first, until the minimum widths fit.
 * Returns the dropped ones too so the chooser can say why a ticked column is not shown.
 */
export function fitColumns(chosen: readonly VmColumnId[], widthPx: number, withPanel: boolean): { shown: VmColumnDef[]; dropped: VmColumnDef[] } {
  const picked = VM_COLUMNS.filter((c) => chosen.includes(c.id));
  if (withPanel) return { shown: picked.filter((c) => c.scan), dropped: picked.filter((c) => !c.scan) };
  const shown = [...picked];
  const dropped: VmColumnDef[] = [];
  const need = () => CHECK_TRACK_PX + NAME_MIN_PX + shown.reduce((s, c) => s + c.minPx, 0);
  const byPriority = [...picked].filter((c) => !c.scan).sort((a, b) => a.priority - b.priority);
  for (const c of byPriority) {
    if (need() <= widthPx) break;
    shown.splice(shown.indexOf(c), 1);
    dropped.push(c);
  }
  return { shown, dropped };
}

/** Pure: the grid template for the shown columns. */
export const gridTemplate = (shown: readonly VmColumnDef[], withPanel = false): string =>
  [`${CHECK_TRACK_PX}px`, `minmax(${withPanel ? PANEL_NAME_MIN_PX : NAME_MIN_PX}px, 2fr)`, ...shown.map((c) => c.track)].join(' ');

/** "2h", "30m", "1d", or "1h 30m" for a replica-age target. */
export function formatTarget(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds < 3600 && seconds % 60 === 0) return `${seconds / 60}m`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : `${m}m`;
}

export type AgeStanding = 'none' | 'within' | 'near' | 'over' | 'never';

/**
 * Pure: where a replica's age stands against its target. `near` from 80 % of the target on, so an
 * operator sees a replica about to go stale before it does; a VM that never synced is over any target.
 */
export function ageStanding(lastSyncIso: string | null, targetSeconds: number | null, nowMs: number): AgeStanding {
  if (targetSeconds === null) return 'none';
  if (!lastSyncIso) return 'never';
  const age = (nowMs - Date.parse(lastSyncIso)) / 1000;
  if (age > targetSeconds) return 'over';
  if (age >= targetSeconds * 0.8) return 'near';
  return 'within';
}
