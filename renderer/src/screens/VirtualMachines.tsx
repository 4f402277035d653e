import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import type { VmContextSummary } from '../../../shared/domain';
import { useLive } from '../store/contexts-store';
import { uiActions, useUi } from '../store/ui-store';
import { VmStatusBadge } from '../components/StatusBadge';
import { Time } from '../components/Age';
import { ErrorBox } from '../components/ErrorBox';
import { formatBytes, formatCount, formatDuration, formatMemory, formatRate } from '../lib/format';
import { RowSlots } from '../lib/row-slots';
import { progressView } from '../lib/job-progress';
import { statusSummary, summaryFromCounts, visibleContexts, type PlansById, type VmSortKey } from '../lib/vm-list';
import type { VmStatusCounts } from '../../../shared/vm-order';
import { VM_COLUMNS, fitColumns, gridTemplate, type VmColumnDef, type VmColumnId } from '../lib/vm-columns';
import { reloadPlans, msUntilNextDue, usePlans } from '../store/schedule-plans';
import { useColumnChoice, ColumnChooser } from './vm-list/ColumnChooser';
import { ReplicaAgeCell, NextSyncCell, GroupsCell } from './vm-list/PlanCells';
import { VmDetailPanel } from './VmDetailPanel';
import { BulkActions } from './vm-list/BulkActions';
import { useConnection } from '../transport/connection';

const ROW_HEIGHT = 34;
/**
 * Rows drawn beyond the window on each side once the first rows are on screen: enough that a frame of
 * fast scrolling seldom shows a gap, few enough that each frame has little to update. The first render
 * draws only the rows in the window, so the first paint waits for no row it does not show.
 */
const OVERSCAN_ROWS = 8;

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

// Memoised: the table re-renders on every scroll event of the virtual list, the header need not.
const HeaderRow = memo(function HeaderRow({
  rows,
  columns,
  hidden,
  loading,
}: {
  rows: VmContextSummary[];
  columns: readonly VmColumnDef[];
  hidden: ReadonlySet<VmColumnId>;
  loading: boolean;
}) {
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
          title={loading ? 'Available once every VM is loaded' : undefined}
          checked={allOn}
          disabled={rows.length === 0 || loading}
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
});

/**
 * The table body with roving focus: one row is in the tab order; arrows, Home/End and PageUp/PageDown
 * move it (scrolling the virtual list), Enter opens the row's panel, Space ticks it for a bulk action.
 */
function VmTable({
  rows,
  total,
  loaded,
  rowCount,
  chosen,
  withPanel,
}: {
  rows: VmContextSummary[];
  /** Every managed VM, loaded or not. */
  total: number;
  /** VMs in the store: fewer than `total` while only the first page is in. */
  loaded: number;
  /** Rows the table is tall for: `total` in the default view while loading (the rest drawn as pending rows), else `rows.length`. */
  rowCount: number;
  chosen: readonly VmColumnId[];
  withPanel: boolean;
}) {
  const loading = loaded < total;
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
  // Kept as long as the same columns fit: a width change that drops or restores none (the first
  // measurement, most window resizes) then re-renders no row, since every row gets these same objects.
  const fitted = useRef<{ key: string; columns: VmColumnDef[]; hidden: ReadonlySet<VmColumnId>; template: string } | null>(null);
  const { columns, hidden, template } = useMemo(() => {
    const fit = fitColumns(chosen, width, withPanel);
    const template = gridTemplate(fit.shown, withPanel);
    const key = `${template}|${fit.shown.map((c) => c.id).join(' ')}|${fit.dropped.map((c) => c.id).join(' ')}`;
    if (fitted.current?.key !== key) {
      // Beside the panel the dropped columns stay drawn but hidden (a running job's progress cell keeps
      // moving in its row); dropped for width they are not drawn at all, which is two of eleven cells
      // per row at 1440 px, on the first render and in every frame of scrolling.
      const all = withPanel ? [...fit.shown, ...fit.dropped] : fit.shown;
      fitted.current = { key, columns: VM_COLUMNS.filter((c) => all.includes(c)), hidden: new Set(withPanel ? fit.dropped.map((c) => c.id) : []), template };
    }
    return fitted.current;
  }, [chosen, width, withPanel]);
  const [active, setActive] = useState(0);
  const [focusWanted, setFocusWanted] = useState(false);
  const activeIndex = Math.min(active, Math.max(0, rows.length - 1));
  // The row in the tab order stays rendered when it scrolls out of view, so it keeps its slot (and
  // focus stays on the VM it shows) instead of its element being handed to another VM.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (activeIndex < range.count && !indexes.includes(activeIndex)) {
        indexes.push(activeIndex);
        indexes.sort((a, b) => a - b);
      }
      return indexes;
    },
    [activeIndex],
  );
  const [overscan, setOverscan] = useState(0);
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan,
    rangeExtractor,
  });
  // Rows are keyed by screen slot (lib/row-slots.ts): scrolling updates rows in place.
  const slots = useRef(new RowSlots());
  const items = virtualizer.getVirtualItems();
  const slotOf = slots.current.assign(items.map((item) => item.index));
  const drawn = items.length > 0;
  useEffect(() => {
    if (!drawn || overscan === OVERSCAN_ROWS) return;
    // A task posted from the next animation frame runs once that frame, with the first rows, is painted.
    let t: ReturnType<typeof setTimeout> | undefined;
    const raf = requestAnimationFrame(() => {
      t = setTimeout(() => setOverscan(OVERSCAN_ROWS), 0);
    });
    return () => {
      cancelAnimationFrame(raf);
      clearTimeout(t);
    };
  }, [drawn, overscan]);

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
      aria-rowcount={rowCount + 1}
      aria-busy={loading || undefined}
      data-testid="vm-table"
      data-columns={columns.filter((c) => !hidden.has(c.id)).map((c) => c.id).join(' ')}
      style={{ ['--vm-columns' as string]: template }}
    >
      <HeaderRow rows={rows} columns={columns} hidden={hidden} loading={loading} />
      <div
        className="vbody"
        ref={scrollRef}
        onKeyDown={onKeyDown}
        onFocus={(e) => {
          const i = Number((e.target as HTMLElement).dataset.index);
          if (Number.isInteger(i) && i !== activeIndex) setActive(i);
        }}
      >
        {rowCount === 0 ? (
          <div className="empty-state small" data-testid="vms-no-match">
            {loading ? `No VM among the first ${formatCount(loaded)} loaded matches; the rest are loading…` : 'No VM matches this search.'}
          </div>
        ) : (
          <div className="vspacer" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item, k) => {
              const c = rows[item.index];
              const key = `slot-${slotOf[k]}`;
              return c ? (
                <VmRow key={key} c={c} index={item.index} top={item.start} active={item.index === activeIndex} columns={columns} hidden={hidden} />
              ) : (
                // A row of the default order that is not loaded yet: it keeps its place, so nothing moves when it arrives.
                <div key={key} role="row" className="vrow vrow-pending" style={{ transform: `translateY(${item.start}px)` }} aria-rowindex={item.index + 2}>
                  <div role="cell" className="cell muted">
                    Loading…
                  </div>
                </div>
              );
            })}
          </div>
        )}
      </div>
      <div className="table-footer" data-testid="vm-count" data-loading={loading || undefined}>
        {loading ? (
          <>
            {rowCount === total
              ? `First ${formatCount(loaded)} of ${formatCount(total)} VMs loaded; loading the rest…`
              : `${formatCount(rows.length)} shown from the first ${formatCount(loaded)} of ${formatCount(total)} VMs; the rest join this view once loaded…`}
            {/* The summary bar's counts are the core's, of every VM; it says so to screen readers itself. */}
            <span className="footer-note" aria-hidden>
              {` Status counts above: all ${formatCount(total)} VMs.`}
            </span>
          </>
        ) : rows.length === total ? (
          `${formatCount(total)} ${total === 1 ? 'VM' : 'VMs'} under management`
        ) : (
          `${formatCount(rows.length)} of ${formatCount(total)} VMs shown`
        )}
      </div>
    </div>
  );
}

/** "2 failed · 3 replicating · 40 ready": each part filters the table to that group; pressed again it clears. */
function SummaryBar({ all, partial }: { all: VmContextSummary[]; partial: VmStatusCounts | null }) {
  const group = useUi((s) => s.vmGroup);
  // While the list loads, the core's counts of every VM: right for the whole set, not just the rows in.
  const summary = useMemo(() => (partial ? summaryFromCounts(partial.byDisplayStatus) : statusSummary(all)), [all, partial]);
  const note = partial && partial.total > all.length ? `counts of all ${formatCount(partial.total)} VMs; list still loading` : null;
  return (
    <div className="summary-bar" role="group" aria-label="VMs by status" data-testid="status-summary" data-partial={partial ? 'true' : undefined} title={note ? `Status ${note}` : undefined}>
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
      {/* Read out with the counts; on screen the table footer (a line of its own) says it, so the
          toolbar keeps its height when the list arrives and the note goes. */}
      {note && (
        <span className="sr-only" data-testid="summary-partial">
          {` (${note})`}
        </span>
      )}
    </div>
  );
}

function Toolbar({
  all,
  shown,
  partial,
  chosen,
  setChosen,
}: {
  all: VmContextSummary[];
  shown: VmContextSummary[];
  partial: VmStatusCounts | null;
  chosen: readonly VmColumnId[];
  setChosen: (c: VmColumnId[]) => void;
}) {
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
      <SummaryBar all={all} partial={partial} />
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
  const partial = useLive((s) => s.contextsPartial);
  // Appliances are known by their tunnel states: with one added, the next step is Discovery.
  const hasAppliances = useLive((s) => Object.keys(s.tunnelsByAppliance).length > 0);
  const selected = useUi((s) => s.selectedContextId);
  const search = useUi((s) => s.vmSearch);
  const group = useUi((s) => s.vmGroup);
  const sort = useUi((s) => s.vmSort);
  const [chosen, setChosen] = useColumnChoice();
  // The whole set's size, so the full list arriving after the first page does not reload the plans.
  const total = partial?.total ?? ids.length;
  usePlansRefresh(total);
  // Only the next-sync and groups sorts read the plans: other sorts are not redone when plans reload.
  const plans = usePlans((s) => (sort.key === 'nextSync' || sort.key === 'groups' ? s.byContextId : NO_PLANS));
  const all = useMemo(() => ids.map((id) => byId[id]).filter((c): c is VmContextSummary => c !== undefined), [ids, byId]);
  // The store already keeps the list sorted by name: the default view needs no filtering or sorting pass,
  // so a pushed batch on a 10,000-VM list costs one map, not a sort.
  const defaultView = search.trim() === '' && group === null && sort.key === 'name' && sort.dir === 'asc';
  const rows = useMemo(() => (defaultView ? all : visibleContexts(all, search, group, sort, plans)), [defaultView, all, search, group, sort, plans]);

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
  if (total === 0)
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
        <Toolbar all={all} shown={rows} partial={partial} chosen={chosen} setChosen={setChosen} />
        <VmTable
          rows={rows}
          total={Math.max(total, all.length)}
          loaded={all.length}
          rowCount={partial && defaultView ? Math.max(partial.total, rows.length) : rows.length}
          chosen={chosen}
          withPanel={selected !== null}
        />
      </div>
      {selected && <VmDetailPanel key={selected} id={selected} />}
    </div>
  );
}
