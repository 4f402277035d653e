import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { VmContextSummary } from '../../../shared/domain';
import { useLive } from '../store/contexts-store';
import { uiActions, useUi } from '../store/ui-store';
import { VmStatusBadge } from '../components/StatusBadge';
import { Age, Time } from '../components/Age';
import { ErrorBox } from '../components/ErrorBox';
import { formatBytes, formatDuration, formatMemory, formatRate } from '../lib/format';
import { progressView } from '../lib/job-progress';
import { statusSummary, visibleContexts, type VmSortKey } from '../lib/vm-list';
import { VmDetailPanel } from './VmDetailPanel';
import { BulkActions } from './vm-list/BulkActions';

const ROW_HEIGHT = 34;

function JobProgressCell({ jobId }: { jobId: string }) {
  const p = useLive((s) => s.progressByJobId[jobId]);
  if (!p) return <span className="muted">job {jobId.slice(-6)} starting…</span>;
  const v = progressView(p);
  // Before the copy starts there is no percent, rate or ETA to show: say which setup step the job is in.
  const text = v.setup
    ? `${v.detail}…`
    : v.percent === null
      ? v.detail
      : `${v.percentText} · ${formatRate(p.rateBps)} · ETA ${formatDuration(p.etaSeconds)}`;
  const title = v.setup ? v.detail : `${v.percentText} · ${v.detail} · ${formatRate(p.rateBps)} · ETA ${formatDuration(p.etaSeconds)}`;
  return (
    <div className="progress-cell" title={title}>
      {v.percent !== null && (
        <div className="progress" role="progressbar" aria-label="Job progress" aria-valuenow={Math.floor(v.percent * 10) / 10} aria-valuemin={0} aria-valuemax={100}>
          <div className="progress-fill" style={{ width: `${v.percent}%` }} />
        </div>
      )}
      <span className="progress-text">{text}</span>
    </div>
  );
}

const POWER_TEXT: Record<string, string> = { poweredOn: 'On', poweredOff: 'Off', suspended: 'Suspended', unknown: 'Unknown' };

const VmRow = memo(function VmRow({
  c,
  index,
  top,
  active,
}: {
  c: VmContextSummary;
  index: number;
  top: number;
  active: boolean;
}) {
  const open = useUi((s) => s.selectedContextId === c.id);
  const checked = useUi((s) => s.checkedContextIds.has(c.id));
  const disks = `${c.diskCount} · ${formatBytes(c.totalBytes)}`;
  const cpu = `${c.specs.cpus} vCPU · ${formatMemory(c.specs.memoryMb)}`;
  const classes = ['vrow', open ? 'selected' : '', checked ? 'checked' : ''].filter(Boolean).join(' ');
  return (
    <div
      role="row"
      className={classes}
      style={{ transform: `translateY(${top}px)` }}
      data-context-id={c.id}
      data-index={index}
      aria-rowindex={index + 2}
      aria-current={open ? 'true' : undefined}
      tabIndex={active ? 0 : -1}
      onClick={() => uiActions.selectContext(c.id)}
    >
      <div role="cell" className="cell col-check">
        <input
          type="checkbox"
          tabIndex={-1}
          aria-label={`Select ${c.name}`}
          checked={checked}
          onClick={(e) => e.stopPropagation()}
          onChange={() => uiActions.toggleChecked(c.id)}
        />
      </div>
      <div role="cell" className="cell name" title={`${c.name}\n${c.path}`}>
        {c.name}
      </div>
      <div role="cell" className="cell col-status">
        <VmStatusBadge context={c} />
      </div>
      <div role="cell" className="cell col-progress">
        {c.currentJobId ? <JobProgressCell jobId={c.currentJobId} /> : <span className="muted">—</span>}
      </div>
      <div role="cell" className="cell col-lastsync">
        <Time iso={c.lastSuccessfulSyncAt} short none="never" />
      </div>
      <div role="cell" className="cell col-age" data-testid="row-age">
        <Age iso={c.lastSuccessfulSyncAt} />
      </div>
      <div role="cell" className="cell col-power" title={c.specs.powerState}>
        {POWER_TEXT[c.specs.powerState] ?? c.specs.powerState}
      </div>
      <div role="cell" className="cell num col-disks" title={disks}>
        {disks}
      </div>
      <div role="cell" className="cell num col-cpu" title={cpu}>
        {cpu}
      </div>
    </div>
  );
});

const COLUMNS: { key: VmSortKey | null; label: string; className: string }[] = [
  { key: 'name', label: 'Name', className: '' },
  { key: 'status', label: 'Status', className: 'col-status' },
  { key: null, label: 'Progress', className: 'col-progress' },
  { key: 'lastSync', label: 'Last sync', className: 'col-lastsync' },
  { key: 'age', label: 'Replica age', className: 'col-age' },
  { key: 'power', label: 'Power', className: 'col-power' },
  { key: 'disks', label: 'Disks', className: 'num col-disks' },
  { key: 'cpu', label: 'CPU / Memory', className: 'num col-cpu' },
];

function HeaderRow({ rows }: { rows: VmContextSummary[] }) {
  const sort = useUi((s) => s.vmSort);
  const checked = useUi((s) => s.checkedContextIds);
  const allOn = rows.length > 0 && rows.every((r) => checked.has(r.id));
  return (
    <div role="row" className="vrow vhead" aria-rowindex={1}>
      <div role="columnheader" className="cell col-check">
        <input
          type="checkbox"
          aria-label="Select all shown"
          checked={allOn}
          disabled={rows.length === 0}
          onChange={(e) => {
            const n = new Set(checked);
            for (const r of rows) {
              if (e.target.checked) n.add(r.id);
              else n.delete(r.id);
            }
            uiActions.setChecked(n);
          }}
        />
      </div>
      {COLUMNS.map((col) => {
        const sorted = col.key !== null && sort.key === col.key;
        return (
          <div
            key={col.label}
            role="columnheader"
            className={`cell ${col.className}`}
            aria-sort={sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : col.key ? 'none' : undefined}
          >
            {col.key ? (
              <button type="button" className="sort-button" data-sort={col.key} onClick={() => uiActions.sortBy(col.key as VmSortKey)}>
                {col.label}
                <span className="sort-mark" aria-hidden>
                  {sorted ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                </span>
              </button>
            ) : (
              col.label
            )}
          </div>
        );
      })}
    </div>
  );
}

/**
 * The table body with roving focus: one row is in the tab order; arrows, Home/End and PageUp/PageDown
 * move it (scrolling the virtual list), Enter opens the row's panel, Space ticks it for a bulk action.
 */
function VmTable({ rows, total }: { rows: VmContextSummary[]; total: number }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const [focusWanted, setFocusWanted] = useState(false);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const activeIndex = Math.min(active, Math.max(0, rows.length - 1));

  useEffect(() => {
    if (!focusWanted) return;
    const el = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${activeIndex}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      setFocusWanted(false);
    }
  });

  const moveTo = useCallback(
    (i: number) => {
      const next = Math.max(0, Math.min(rows.length - 1, i));
      setActive(next);
      setFocusWanted(true);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    },
    [rows.length, virtualizer],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if ((e.target as HTMLElement).getAttribute('role') !== 'row') return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_HEIGHT * 10) / ROW_HEIGHT) - 1);
    const row = rows[activeIndex];
    switch (e.key) {
      case 'ArrowDown':
        moveTo(activeIndex + 1);
        break;
      case 'ArrowUp':
        moveTo(activeIndex - 1);
        break;
      case 'PageDown':
        moveTo(activeIndex + page);
        break;
      case 'PageUp':
        moveTo(activeIndex - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'Enter':
        if (row) uiActions.selectContext(row.id);
        break;
      case ' ':
        if (row) uiActions.toggleChecked(row.id);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <div className="vtable vm-table" role="table" aria-label="Virtual machines" aria-rowcount={rows.length + 1} data-testid="vm-table">
      <HeaderRow rows={rows} />
      <div
        className="vbody"
        ref={scrollRef}
        onKeyDown={onKeyDown}
        onFocus={(e) => {
          const i = Number((e.target as HTMLElement).dataset.index);
          if (Number.isInteger(i) && i !== activeIndex) setActive(i);
        }}
      >
        {rows.length === 0 ? (
          <div className="empty-state small" data-testid="vms-no-match">
            No VM matches this search.
          </div>
        ) : (
          <div className="vspacer" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((item) => {
              const c = rows[item.index];
              return c ? <VmRow key={c.id} c={c} index={item.index} top={item.start} active={item.index === activeIndex} /> : null;
            })}
          </div>
        )}
      </div>
      <div className="table-footer" data-testid="vm-count">
        {rows.length === total
          ? `${total.toLocaleString()} ${total === 1 ? 'VM' : 'VMs'} under management`
          : `${rows.length.toLocaleString()} of ${total.toLocaleString()} VMs shown`}
      </div>
    </div>
  );
}

/** "2 failed · 3 replicating · 40 ready": each part filters the table to that group; pressed again it clears. */
function SummaryBar({ all }: { all: VmContextSummary[] }) {
  const group = useUi((s) => s.vmGroup);
  const summary = useMemo(() => statusSummary(all), [all]);
  return (
    <div className="summary-bar" role="group" aria-label="VMs by status" data-testid="status-summary">
      {summary.map((g, i) => (
        <span key={g.id}>
          {i > 0 && <span className="summary-sep" aria-hidden> · </span>}
          <button
            type="button"
            className={`summary-item summary-${g.id}`}
            aria-pressed={group === g.id}
            data-group={g.id}
            onClick={() => uiActions.setVmGroup(group === g.id ? null : g.id)}
          >
            {g.count} {g.label}
          </button>
        </span>
      ))}
    </div>
  );
}

function Toolbar({ all, shown }: { all: VmContextSummary[]; shown: VmContextSummary[] }) {
  const search = useUi((s) => s.vmSearch);
  return (
    <div className="vm-toolbar">
      <input
        type="search"
        className="vm-search"
        aria-label="Search VMs by name, path or status"
        placeholder="Search name, path or status"
        value={search}
        onChange={(e) => uiActions.setVmSearch(e.target.value)}
      />
      <SummaryBar all={all} />
      <BulkActions all={all} shown={shown} />
    </div>
  );
}

export function VirtualMachinesScreen() {
  const loaded = useLive((s) => s.contextsLoaded);
  const error = useLive((s) => s.contextsError);
  const byId = useLive((s) => s.contextsById);
  const ids = useLive((s) => s.contextIds);
  const selected = useUi((s) => s.selectedContextId);
  const search = useUi((s) => s.vmSearch);
  const group = useUi((s) => s.vmGroup);
  const sort = useUi((s) => s.vmSort);
  const all = useMemo(() => ids.map((id) => byId[id]).filter((c): c is VmContextSummary => c !== undefined), [ids, byId]);
  // The store already keeps the list sorted by name: the default view needs no filtering or sorting pass,
  // so a pushed batch on a 10,000-VM list costs one map, not a sort.
  const rows = useMemo(
    () => (search.trim() === '' && group === null && sort.key === 'name' && sort.dir === 'asc' ? all : visibleContexts(all, search, group, sort)),
    [all, search, group, sort],
  );

  // Escape closes the panel from anywhere on the screen and gives focus back to the row it came from.
  useEffect(() => {
    if (!selected) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('.modal')) return;
      uiActions.selectContext(null);
      requestAnimationFrame(() => document.querySelector<HTMLElement>(`.vm-table [data-context-id="${CSS.escape(selected)}"]`)?.focus());
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [selected]);

  if (!loaded) return <div className="screen-pad muted">Loading virtual machines…</div>;
  if (error) return <div className="screen-pad"><ErrorBox error={error} /></div>;
  if (all.length === 0)
    return (
      <div className="empty-state" data-testid="vms-empty">
        <h2>No VMs under management yet.</h2>
        <p>Add an appliance and credentials in Settings, then use Discovery to add VMs.</p>
      </div>
    );
  return (
    <div className={selected ? 'split with-panel' : 'split'}>
      <div className="vm-list">
        <Toolbar all={all} shown={rows} />
        <VmTable rows={rows} total={all.length} />
      </div>
      {selected && <VmDetailPanel key={selected} id={selected} />}
    </div>
  );
}
