import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { VmContextSummary } from '../../../shared/domain';
import { useLive } from '../store/contexts-store';
import { uiActions, useUi } from '../store/ui-store';
import { VmStatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Age';
import { ErrorBox } from '../components/ErrorBox';
import { formatBytes, formatDuration, formatMemory, formatRate } from '../lib/format';
import { progressView } from '../lib/job-progress';
import { statusSummary, visibleContexts, type PlansById, type VmSortKey } from '../lib/vm-list';
import { VM_COLUMNS, fitColumns, gridTemplate, type VmColumnDef, type VmColumnId } from '../lib/vm-columns';
import { reloadPlans, msUntilNextDue, usePlans } from '../store/schedule-plans';
import { useColumnChoice, ColumnChooser } from './vm-list/ColumnChooser';
import { ReplicaAgeCell, NextSyncCell, GroupsCell } from './vm-list/PlanCells';
import { VmDetailPanel } from './VmDetailPanel';
import { BulkActions } from './vm-list/BulkActions';
import { useConnection } from '../transport/connection';

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
  columns,
  hidden,
}: {
  c: VmContextSummary;
  index: number;
  top: number;
  active: boolean;
  /** The chosen columns, in table order. */
  columns: readonly VmColumnDef[];
  /** Chosen columns that do not fit now (or sit beside the open panel): drawn but not shown. */
  hidden: ReadonlySet<VmColumnId>;
}) {
  const open = useUi((s) => s.selectedContextId === c.id);
  const checked = useUi((s) => s.checkedContextIds.has(c.id));
  const classes = ['vrow', open ? 'selected' : '', checked ? 'checked' : '', c.enabled ? '' : 'disabled-vm'].filter(Boolean).join(' ');
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
      <div role="cell" className="cell name" title={`${c.name}\n${c.path}${c.enabled ? '' : '\nDisabled: skipped by schedules, no syncs by hand'}`}>
        {!c.enabled && (
          <span className="tag-off" data-testid="row-disabled">
            disabled
          </span>
        )}
        {c.name}
      </div>
      {columns.map((col) => (
        <Cell key={col.id} col={col} c={c} hidden={hidden.has(col.id)} />
      ))}
    </div>
  );
});

function Cell({ col, c, hidden }: { col: VmColumnDef; c: VmContextSummary; hidden: boolean }) {
  const className = `cell ${col.className}${hidden ? ' col-hidden' : ''}`;
  switch (col.id) {
    case 'status':
      return (
        <div role="cell" className={className}>
          <VmStatusBadge context={c} />
        </div>
      );
    case 'progress':
      return (
        <div role="cell" className={className}>
          {c.currentJobId ? <JobProgressCell jobId={c.currentJobId} /> : <span className="muted">—</span>}
        </div>
      );
    case 'lastSync':
      return (
        <div role="cell" className={className}>
          <Time iso={c.lastSuccessfulSyncAt} short none="never" />
        </div>
      );
    case 'age':
      return (
        <div role="cell" className={className} data-testid="row-age">
          <ReplicaAgeCell c={c} />
        </div>
      );
    case 'nextSync':
      return (
        <div role="cell" className={className} data-testid="row-next-sync">
          <NextSyncCell c={c} />
        </div>
      );
    case 'groups':
      return (
        <div role="cell" className={className} data-testid="row-groups">
          <GroupsCell contextId={c.id} />
        </div>
      );
    case 'power':
      return (
        <div role="cell" className={className} title={c.specs.powerState}>
          {POWER_TEXT[c.specs.powerState] ?? c.specs.powerState}
        </div>
      );
    case 'disks': {
      const disks = `${c.diskCount} · ${formatBytes(c.totalBytes)}`;
      return (
        <div role="cell" className={className} title={disks}>
          {disks}
        </div>
      );
    }
    case 'cpu': {
      const cpu = `${c.specs.cpus} vCPU · ${formatMemory(c.specs.memoryMb)}`;
      return (
        <div role="cell" className={className} title={cpu}>
          {cpu}
        </div>
      );
    }
  }
}

function HeaderRow({ rows, columns, hidden }: { rows: VmContextSummary[]; columns: readonly VmColumnDef[]; hidden: ReadonlySet<VmColumnId> }) {
  const sort = useUi((s) => s.vmSort);
  const checked = useUi((s) => s.checkedContextIds);
  const allOn = rows.length > 0 && rows.every((r) => checked.has(r.id));
  const head: { key: VmSortKey | null; label: string; className: string; id: string }[] = [
    { key: 'name', label: 'Name', className: '', id: 'name' },
    ...columns.map((c) => ({ key: c.sortKey, label: c.label, className: `${c.className}${hidden.has(c.id) ? ' col-hidden' : ''}`, id: c.id })),
  ];
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
      {head.map((col) => {
        const sorted = col.key !== null && sort.key === col.key;
        return (
          <div
            key={col.id}
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
function VmTable({ rows, total, chosen, withPanel }: { rows: VmContextSummary[]; total: number; chosen: readonly VmColumnId[]; withPanel: boolean }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const tableRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1200);
  useEffect(() => {
    const el = tableRef.current;
    if (!el) return;
    // The body's scrollbar gutter is part of the table's width but holds no column.
    const measure = () => setWidth(el.clientWidth - 16);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const { columns, hidden, template } = useMemo(() => {
    const fit = fitColumns(chosen, width, withPanel);
    const all = [...fit.shown, ...fit.dropped];
    const ordered = VM_COLUMNS.filter((c) => all.includes(c));
    return { columns: ordered, hidden: new Set(fit.dropped.map((c) => c.id)), template: gridTemplate(fit.shown, withPanel) };
  }, [chosen, width, withPanel]);
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
    <div
      ref={tableRef}
      className="vtable vm-table"
      role="table"
      aria-label="Virtual machines"
      aria-rowcount={rows.length + 1}
      data-testid="vm-table"
      data-columns={columns.filter((c) => !hidden.has(c.id)).map((c) => c.id).join(' ')}
      style={{ ['--vm-columns' as string]: template }}
    >
      <HeaderRow rows={rows} columns={columns} hidden={hidden} />
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
              return c ? <VmRow key={c.id} c={c} index={item.index} top={item.start} active={item.index === activeIndex} columns={columns} hidden={hidden} /> : null;
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

function Toolbar({ all, shown, chosen, setChosen }: { all: VmContextSummary[]; shown: VmContextSummary[]; chosen: readonly VmColumnId[]; setChosen: (c: VmColumnId[]) => void }) {
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
      <ColumnChooser chosen={chosen} onChange={setChosen} />
      <BulkActions all={all} shown={shown} />
    </div>
  );
}

/** Loads the per-VM schedule plans on mount, when VMs come or go, after a reconnect, and when a shown next sync is due. */
function usePlansRefresh(vmCount: number) {
  const plans = usePlans((s) => s.byContextId);
  const generation = useConnection((s) => s.generation);
  useEffect(() => {
    void reloadPlans();
  }, [vmCount, generation]);
  useEffect(() => {
    const wait = msUntilNextDue(plans, Date.now());
    // Groups and schedules are edited on other screens of this window (which remounts this one) or by
    // `mkc`; a slow poll covers the latter.
    const t = setTimeout(() => void reloadPlans(), Math.min(wait ?? 60_000, 60_000));
    return () => clearTimeout(t);
  }, [plans]);
}

const NO_PLANS: PlansById = {};

export function VirtualMachinesScreen() {
  const loaded = useLive((s) => s.contextsLoaded);
  const error = useLive((s) => s.contextsError);
  const byId = useLive((s) => s.contextsById);
  const ids = useLive((s) => s.contextIds);
  // Appliances are known by their tunnel states: with one added, the next step is Discovery.
  const hasAppliances = useLive((s) => Object.keys(s.tunnelsByAppliance).length > 0);
  const selected = useUi((s) => s.selectedContextId);
  const search = useUi((s) => s.vmSearch);
  const group = useUi((s) => s.vmGroup);
  const sort = useUi((s) => s.vmSort);
  const [chosen, setChosen] = useColumnChoice();
  usePlansRefresh(ids.length);
  // Only the next-sync and groups sorts read the plans: other sorts are not redone when plans reload.
  const plans = usePlans((s) => (sort.key === 'nextSync' || sort.key === 'groups' ? s.byContextId : NO_PLANS));
  const all = useMemo(() => ids.map((id) => byId[id]).filter((c): c is VmContextSummary => c !== undefined), [ids, byId]);
  // The store already keeps the list sorted by name: the default view needs no filtering or sorting pass,
  // so a pushed batch on a 10,000-VM list costs one map, not a sort.
  const rows = useMemo(
    () => (search.trim() === '' && group === null && sort.key === 'name' && sort.dir === 'asc' ? all : visibleContexts(all, search, group, sort, plans)),
    [all, search, group, sort, plans],
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
        <p>
          {hasAppliances
            ? 'Discover the VMs of a vCenter through its VMA appliance and add them to management.'
            : 'Add an appliance and credentials in Settings, then use Discovery to add VMs.'}
        </p>
        <button type="button" className="btn primary" onClick={() => uiActions.navigate(hasAppliances ? 'discovery' : 'settings')}>
          {hasAppliances ? 'Open Discovery' : 'Open Settings'}
        </button>
      </div>
    );
  return (
    <div className={selected ? 'split with-panel' : 'split'}>
      <div className="vm-list">
        <Toolbar all={all} shown={rows} chosen={chosen} setChosen={setChosen} />
        <VmTable rows={rows} total={all.length} chosen={chosen} withPanel={selected !== null} />
      </div>
      {selected && <VmDetailPanel key={selected} id={selected} />}
    </div>
  );
}
