import { useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { AddContextsResult, DiscoveryResult, DiscoveryRow } from '../../../shared/discovery';
import type { AppErrorShape } from '../../../shared/errors';
import { useInvoke } from '../lib/use-invoke';
import { useLive } from '../store/contexts-store';
import { api } from '../transport/api';
import { ErrorBox } from '../components/ErrorBox';
import { formatBytes, formatMemory, formatMs } from '../lib/format';
import { diskBytes, pruneSelection, visibleDiscoveryRows, type DiscoverySort, type DiscoverySortKey } from '../lib/discovery-list';

const ROW_HEIGHT = 32;

const COLUMNS: { key: DiscoverySortKey; label: string; className: string }[] = [
  { key: 'name', label: 'Name', className: '' },
  { key: 'path', label: 'Path', className: '' },
  { key: 'power', label: 'Power', className: '' },
  { key: 'cpus', label: 'CPU', className: 'num' },
  { key: 'memory', label: 'Memory', className: 'num' },
  { key: 'os', label: 'OS', className: '' },
  { key: 'disks', label: 'Disks', className: 'num' },
  { key: 'nics', label: 'NICs', className: 'num' },
  { key: 'managed', label: 'Managed', className: '' },
];

function ResultsTable({
  rows,
  selected,
  sort,
  onSort,
  toggle,
  toggleAll,
}: {
  rows: DiscoveryRow[];
  selected: ReadonlySet<string>;
  sort: DiscoverySort;
  onSort: (key: DiscoverySortKey) => void;
  toggle: (id: string) => void;
  toggleAll: (on: boolean) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const selectable = rows.filter((r) => !r.managedContextId);
  const allOn = selectable.length > 0 && selectable.every((r) => selected.has(r.vmwareVmId));
  return (
    <div className="vtable discovery-table" role="table" aria-label="Discovered VMs" aria-rowcount={rows.length + 1}>
      <div role="row" className="vrow vhead">
        <div role="columnheader" className="cell">
          <input
            type="checkbox"
            aria-label="Select all shown unmanaged"
            checked={allOn}
            disabled={selectable.length === 0}
            onChange={(e) => toggleAll(e.target.checked)}
          />
        </div>
        {COLUMNS.map((col) => {
          const sorted = sort.key === col.key;
          return (
            <div
              key={col.key}
              role="columnheader"
              className={`cell ${col.className}`}
              aria-sort={sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
            >
              <button type="button" className="sort-button" data-sort={col.key} onClick={() => onSort(col.key)}>
                {col.label}
                <span className="sort-mark" aria-hidden>
                  {sorted ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                </span>
              </button>
            </div>
          );
        })}
      </div>
      <div className="vbody" ref={scrollRef}>
        <div className="vspacer" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const vm = rows[item.index];
            if (!vm) return null;
            const disks = `${vm.disks.length} · ${formatBytes(diskBytes(vm))}`;
            return (
              <div
                key={vm.vmwareVmId}
                role="row"
                className="vrow"
                style={{ transform: `translateY(${item.start}px)` }}
                data-vm-id={vm.vmwareVmId}
              >
                <div role="cell" className="cell">
                  <input
                    type="checkbox"
                    aria-label={`Select ${vm.name}`}
                    checked={selected.has(vm.vmwareVmId)}
                    disabled={vm.managedContextId !== null}
                    onChange={() => toggle(vm.vmwareVmId)}
                  />
                </div>
                <div role="cell" className="cell name" title={vm.name}>{vm.name}</div>
                <div role="cell" className="cell muted" title={vm.path}>{vm.path}</div>
                <div role="cell" className="cell">{vm.powerState}</div>
                <div role="cell" className="cell num">{vm.cpus}</div>
                <div role="cell" className="cell num">{formatMemory(vm.memoryMb)}</div>
                <div role="cell" className="cell" title={vm.osType}>{vm.osType}</div>
                <div role="cell" className="cell num" title={disks}>
                  {disks}
                </div>
                <div role="cell" className="cell num">{vm.networks.length}</div>
                <div role="cell" className="cell">
                  {vm.managedContextId ? <span className="badge badge-managed">Managed</span> : <span className="muted">no</span>}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function DiscoveryScreen() {
  const appliances = useInvoke('appliances:list', {});
  const credentials = useInvoke('credentials:list', {});
  const [applianceId, setApplianceId] = useState('');
  const [credentialId, setCredentialId] = useState('');
  const [filter, setFilter] = useState('');
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<AppErrorShape | null>(null);
  const [result, setResult] = useState<DiscoveryResult | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set<string>());
  const [localFilter, setLocalFilter] = useState('');
  const [sort, setSort] = useState<DiscoverySort>({ key: 'name', dir: 'asc' });
  const [adding, setAdding] = useState(false);
  const [addResult, setAddResult] = useState<AddContextsResult | null>(null);
  const [addError, setAddError] = useState<AppErrorShape | null>(null);
  const contextsById = useLive((s) => s.contextsById);
  // "Managed" follows the live contexts, so a VM another operator (or a conflict) just added shows as managed.
  const managedByKey = useMemo(() => {
    const m = new Map<string, string>();
    for (const c of Object.values(contextsById)) m.set(`${c.vcenterHost}|${c.vmwareVmId}`, c.id);
    return m;
  }, [contextsById]);
  const rows = useMemo(
    () =>
      result
        ? result.vms.map((vm) => {
            const live = managedByKey.get(`${result.vcenterHost}|${vm.vmwareVmId}`) ?? null;
            return live !== vm.managedContextId ? { ...vm, managedContextId: live } : vm;
          })
        : [],
    [result, managedByKey],
  );

  const shown = useMemo(() => visibleDiscoveryRows(rows, localFilter, sort), [rows, localFilter, sort]);
  // A ticked VM that became managed elsewhere (another window, a conflict) leaves the selection.
  useEffect(() => {
    setSelected((s) => pruneSelection(s, rows));
  }, [rows]);

  if (appliances.result && !appliances.result.ok) return <div className="screen-pad"><ErrorBox error={appliances.result.error} what="Discovery" /></div>;
  if (credentials.result && !credentials.result.ok) return <div className="screen-pad"><ErrorBox error={credentials.result.error} what="Discovery" /></div>;
  const vmas = appliances.result?.ok ? appliances.result.value.filter((a) => a.kind === 'vma') : [];
  const creds = credentials.result?.ok ? credentials.result.value : [];
  const effectiveAppliance = applianceId || vmas[0]?.id || '';
  const effectiveCredential = credentialId || creds[0]?.id || '';

  const discover = async () => {
    setRunning(true);
    setError(null);
    setAddResult(null);
    setAddError(null);
    const f = filter.trim();
    const r = await api().invoke('discovery:run', {
      applianceId: effectiveAppliance,
      credentialId: effectiveCredential,
      ...(f ? { filter: f } : {}),
    });
    setRunning(false);
    if (r.ok) {
      setResult(r.value);
      setSelected(new Set());
    } else setError(r.error);
  };

  const add = async () => {
    if (!result) return;
    setAdding(true);
    setAddError(null);
    const r = await api().invoke('contexts:add', { discoveryId: result.discoveryId, vmwareVmIds: [...selected] });
    setAdding(false);
    if (r.ok) {
      setAddResult(r.value);
      setSelected(new Set());
      const submitted = new Set(selected);
      const conflicted = new Set(r.value.conflicts.map((c) => c.vmwareVmId));
      const addedByName = new Map(r.value.added.map((a) => [a.name, a.contextId]));
      setResult({
        ...result,
        vms: result.vms.map((vm) => {
          const contextId = submitted.has(vm.vmwareVmId) && !conflicted.has(vm.vmwareVmId) ? addedByName.get(vm.name) : undefined;
          return contextId ? { ...vm, managedContextId: contextId } : vm;
        }),
      });
    } else setAddError(r.error);
  };

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  // "Select all" acts on the rows shown: a filter narrows what gets added.
  const toggleAll = (on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      for (const v of shown) {
        if (v.managedContextId) continue;
        if (on) n.add(v.vmwareVmId);
        else n.delete(v.vmwareVmId);
      }
      return n;
    });
  const onSort = (key: DiscoverySortKey) => setSort((s) => ({ key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' }));

  const loadingLists = appliances.loading || credentials.loading;
  const missing =
    !loadingLists && (vmas.length === 0 || creds.length === 0)
      ? `Discovery needs ${vmas.length === 0 ? 'a VMA appliance' : ''}${vmas.length === 0 && creds.length === 0 ? ' and ' : ''}${creds.length === 0 ? 'vCenter credentials' : ''}: add them in Settings.`
      : null;

  return (
    <div className="screen-col">
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void discover();
        }}
      >
        <label>
          VMA appliance
          <select value={effectiveAppliance} onChange={(e) => setApplianceId(e.target.value)} disabled={vmas.length === 0}>
            {vmas.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({a.host})
              </option>
            ))}
          </select>
        </label>
        <label>
          vCenter credential
          <select value={effectiveCredential} onChange={(e) => setCredentialId(e.target.value)} disabled={creds.length === 0}>
            {creds.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.vcenterHost})
              </option>
            ))}
          </select>
        </label>
        <label>
          Name filter
          <input type="text" value={filter} placeholder="optional" onChange={(e) => setFilter(e.target.value)} />
        </label>
        <button type="submit" className="btn primary" disabled={running || !effectiveAppliance || !effectiveCredential}>
          {running ? 'Discovering…' : 'Discover'}
        </button>
      </form>
      {missing && <div className="hint block">{missing}</div>}
      {error && <ErrorBox error={error} what="Discovery" />}
      {running && <div className="muted screen-pad">Asking the VMA for the VM inventory…</div>}
      {result && (
        <>
          <div className="toolbar secondary">
            <span data-testid="discovery-count">
              {shown.length === rows.length ? `${rows.length} VMs` : `${shown.length} of ${rows.length} VMs`} in {result.datacenter} on{' '}
              {result.vcenterHost} ({formatMs(result.durationMs)})
            </span>
            <input
              type="search"
              className="vm-search"
              aria-label="Filter discovered VMs by name, path, OS or power state"
              placeholder="Filter these results"
              value={localFilter}
              onChange={(e) => setLocalFilter(e.target.value)}
            />
            <button type="button" className="btn primary" disabled={selected.size === 0 || adding} onClick={() => void add()}>
              {adding ? 'Adding…' : `Add to management (${selected.size})`}
            </button>
          </div>
          {addError && <ErrorBox error={addError} />}
          {addResult && (
            <div className="add-result" role="status">
              {addResult.added.length > 0 && (
                <div className="success" data-testid="add-success">
                  Added {addResult.added.length} to management: {addResult.added.map((a) => a.name).join(', ')}
                </div>
              )}
              {addResult.conflicts.map((c) => (
                <div key={c.vmwareVmId} className="error-box" data-testid="add-conflict" data-vm-name={c.name}>
                  <strong>{c.name}:</strong> {c.message}
                </div>
              ))}
            </div>
          )}
          {result.vms.length === 0 ? (
            <div className="empty-state small">No VMs matched.</div>
          ) : (
            <ResultsTable rows={shown} selected={selected} sort={sort} onSort={onSort} toggle={toggle} toggleAll={toggleAll} />
          )}
        </>
      )}
    </div>
  );
}
