// The short human summary printed on stderr after the JSON report.
type Obj = Record<string, unknown>;

const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Obj)[k] : undefined), o);
const n = (o: unknown, path: string, unit: string): string => {
  const v = get(o, path);
  return typeof v === 'number' ? `${v} ${unit}` : 'n/a';
};

export function summarise(report: Obj): string {
  const lines: string[] = ['', '=== benchmark summary ==='];
  const m = report.machine as Obj;
  lines.push(`machine: ${String(m.cpuCount)} CPUs (${String(m.cpuModel)}), ${String(m.os)}, node ${String(m.node)}`);
  const failed = (key: string): boolean => {
    const s = report[key] as Obj | undefined;
    if (s === undefined) return true;
    if (s.error) lines.push(`${String(s.title)}: FAILED — ${String(s.error).split('\n')[0]}`);
    return Boolean(s.error);
  };

  const t = report.vmaApiTunnelVsDirect;
  if (!failed('vmaApiTunnelVsDirect')) {
    lines.push('1. VMA API direct vs SSH tunnel:');
    for (const call of ['health', 'discoverOneVm']) {
      const route = (name: string) =>
        `${name} ${n(t, `results.${call}.${name}.requestsPerSecond`, 'req/s')} (p50 ${n(t, `results.${call}.${name}.latencyMs.p50`, 'ms')}, ${n(t, `results.${call}.${name}.clientCpuUsPerRequest`, 'µs CPU/req')})`;
      lines.push(`   ${call}: ${route('direct')}; ${route('tunnel')}; ${route('opensshL')}`);
      lines.push(
        `     tunnel/direct ${n(t, `ratios.${call}.requestsPerSecondTunnelOverDirect`, '×')} (target ≥ 0.8 ×) beside anchor ssh -L/direct ${n(t, `ratios.${call}.requestsPerSecondOpensshLOverDirect`, '×')}; tunnel/ssh -L ${n(t, `ratios.${call}.requestsPerSecondTunnelOverOpensshL`, '×')}`,
      );
    }
  }
  const r = report.inventory10kNormaliseAndRender;
  if (!failed('inventory10kNormaliseAndRender')) {
    lines.push(
      `2. 10k VMs: fetch+parse+normalise ${n(r, 'fetchAndNormalise.medianMs.total', 'ms')} (normalise ${n(r, 'fetchAndNormalise.medianMs.normaliseDiscovery', 'ms')}); ` +
        `navigation→first row p50 ${n(r, 'render.navigationToFirstRowMs.p50', 'ms')}; scroll frames p50 ${n(r, 'render.scrollFrames.frameMs.p50', 'ms')}, p99 ${n(r, 'render.scrollFrames.frameMs.p99', 'ms')}, max ${n(r, 'render.scrollFrames.frameMs.max', 'ms')}` +
        (get(r, 'render.rowSelectorMissing') === true ? ' [ROW SELECTOR MISSING]' : ''),
    );
  }
  const e = report.engineOverheadPerJob;
  if (!failed('engineOverheadPerJob')) {
    lines.push(
      `3. engine: initial sync ${n(e, 'initial.wallMs', 'ms')} wall, ${n(e, 'initial.processCpuMs.totalMs', 'ms')} CPU (incl. simulators); ` +
        `incremental median ${n(e, 'incrementalMedian.wallMs', 'ms')} wall, ${n(e, 'incrementalMedian.processCpuTotalMs', 'ms')} CPU`,
    );
  }
  const p = report.poller500Jobs;
  if (!failed('poller500Jobs')) {
    lines.push(
      `4. 500 jobs @2 s: console CPU ${n(p, 'consoleProcess.cpuSharePercent', '% of a core')}, poller pass p50 ${n(p, 'window.tickMs.p50', 'ms')} (each job every ${n(p, 'window.effectivePollPeriodPerJobMs', 'ms')}), ` +
        `DB ${n(p, 'database.statementRunsPerSecond', 'writes/s')} (${n(p, 'database.rowsChangedPerSecond', 'rows/s')}), ` +
        `events ${n(p, 'eventsToRenderer.busFlushesPerSecond', 'flushes/s')} / ${n(p, 'eventsToRenderer.jobProgressUpdatesPerSecond', 'job updates/s')}, ` +
        `frames p50 ${n(p, 'renderer.framesDuringLiveUpdates.frameMs.p50', 'ms')} p99 ${n(p, 'renderer.framesDuringLiveUpdates.frameMs.p99', 'ms')}`,
    );
  }
  lines.push(`total ${n(report, 'totalWallSeconds', 's')}`);
  return lines.join('\n');
}
