import { memo, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useLive } from '../store/contexts-store';
import { uiActions, useUi } from '../store/ui-store';
import { StatusBadge } from '../components/StatusBadge';
import { ErrorBox } from '../components/ErrorBox';
import { formatAge, formatBytes, formatDuration, formatMemory, formatRate, formatTime, humanize } from '../lib/format';
import { VmDetailPanel } from './VmDetailPanel';

const ROW_HEIGHT = 34;

function JobProgressCell({ jobId }: { jobId: string }) {
  const p = useLive((s) => s.progressByJobId[jobId]);
  if (!p) return <span className="muted">job {jobId.slice(-6)} starting…</span>;
  const pct = Math.max(0, Math.min(100, p.progressPercent));
  // Before the copy starts there is no rate or ETA to show: say which setup step the job is in.
  const setup = p.status !== 'replicating';
  return (
    <div className="progress-cell" title={`${p.status} · ${p.phase}`}>
      <div className="progress" role="progressbar" aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="progress-text">
        {setup ? `${pct.toFixed(1)}% · ${p.phase || humanize(p.status)}…` : `${pct.toFixed(1)}% · ${formatRate(p.rateBps)} · ETA ${formatDuration(p.etaSeconds)}`}
      </span>
    </div>
  );
}

const VmRow = memo(function VmRow({ id, top }: { id: string; top: number }) {
  const c = useLive((s) => s.contextsById[id]);
  const selected = useUi((s) => s.selectedContextId === id);
  if (!c) return null;
  return (
    <div
      role="row"
      className={selected ? 'vrow selected' : 'vrow'}
      style={{ transform: `translateY(${top}px)` }}
      data-context-id={id}
      aria-selected={selected}
      onClick={() => uiActions.selectContext(id)}
    >
      <div role="cell" className="cell name" title={c.path}>
        {c.name}
      </div>
      <div role="cell" className="cell">
        <StatusBadge status={c.status} />
      </div>
      <div role="cell" className="cell">
        {c.currentJobId ? <JobProgressCell jobId={c.currentJobId} /> : <span className="muted">—</span>}
      </div>
      <div role="cell" className="cell col-wide">{formatTime(c.lastSuccessfulSyncAt)}</div>
      <div role="cell" className="cell">{c.lastSuccessfulSyncAt ? formatAge(c.lastSuccessfulSyncAt) : <span className="muted">no replica</span>}</div>
      <div role="cell" className="cell num col-wide">
        {c.diskCount} · {formatBytes(c.totalBytes)}
      </div>
      <div role="cell" className="cell num col-wide">
        {c.specs.cpus} vCPU · {formatMemory(c.specs.memoryMb)}
      </div>
    </div>
  );
});

function VmTable() {
  const ids = useLive((s) => s.contextIds);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: ids.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  return (
    <div className="vtable vm-table" role="table" aria-label="Virtual machines" aria-rowcount={ids.length}>
      <div role="row" className="vrow vhead">
        <div role="columnheader" className="cell">Name</div>
        <div role="columnheader" className="cell">Status</div>
        <div role="columnheader" className="cell">Progress</div>
        <div role="columnheader" className="cell col-wide">Last sync</div>
        <div role="columnheader" className="cell">Replica age</div>
        <div role="columnheader" className="cell num col-wide">Disks</div>
        <div role="columnheader" className="cell num col-wide">CPU / Memory</div>
      </div>
      <div className="vbody" ref={scrollRef}>
        <div className="vspacer" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const id = ids[item.index];
            return id ? <VmRow key={id} id={id} top={item.start} /> : null;
          })}
        </div>
      </div>
      <div className="table-footer">{ids.length.toLocaleString()} VMs under management</div>
    </div>
  );
}

export function VirtualMachinesScreen() {
  const loaded = useLive((s) => s.contextsLoaded);
  const error = useLive((s) => s.contextsError);
  const count = useLive((s) => s.contextIds.length);
  const selected = useUi((s) => s.selectedContextId);
  if (!loaded) return <div className="screen-pad muted">Loading virtual machines…</div>;
  if (error) return <div className="screen-pad"><ErrorBox error={error} /></div>;
  if (count === 0)
    return (
      <div className="empty-state" data-testid="vms-empty">
        <h2>No VMs under management yet.</h2>
        <p>Add an appliance and credentials in Settings, then use Discovery to add VMs.</p>
      </div>
    );
  return (
    <div className={selected ? 'split with-panel' : 'split'}>
      <VmTable />
      {selected && <VmDetailPanel key={selected} id={selected} />}
    </div>
  );
}
