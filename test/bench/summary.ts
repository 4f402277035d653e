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
  lines.push(`machine: ${String(m.cpuCount)} CPUs (${String(m.cpuModel)}), ${String(m.totalMemoryMiB)} MiB, ${String(m.os)}, node ${String(m.node)}`);
  const loads = ['vmaApiTunnelVsDirect', 'inventory10kFetchNormalise', 'inventory10kNormaliseAndRender', 'engineOverheadPerJob', 'pollerRunningJobs', 'idleOwner', 'schedulerRun1000']
    .filter((k) => report[k] !== undefined)
    .map((k) => `${k} ${String((report[k] as Obj).loadAverage1mAtEnd ?? 'n/a')}`);
  lines.push(
    `load average (1 min) at start ${String(m.loadAverage1m)} on ${String(m.cpuCount)} CPUs; at the end of each section: ${loads.join(', ')}. ` +
      'A load above the CPU count means other work shared the machine: absolute times grow with it, ratios measured in one section less so.',
  );
  lines.push('each figure: measured (target; anchor = the same thing by a standard tool in this run, or the figure when issue 13 was filed)');
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
        `     tunnel/direct ${n(t, `ratios.${call}.requestsPerSecondTunnelOverDirect`, '×')} (target ≥ 0.8 ×) beside anchor ssh -L/direct ${n(t, `ratios.${call}.requestsPerSecondOpensshLOverDirect`, '×')}; tunnel/ssh -L ${n(t, `ratios.${call}.requestsPerSecondTunnelOverOpensshL`, '×')}; ` +
          `if CPU alone decided ${n(t, `ratios.${call}.cpuBoundEstimateTunnelOverDirect`, '×')}; tunnel route per request: sshd ${n(t, `results.${call}.tunnel.sshdCpuUsPerRequest`, 'µs')}, simulator ${n(t, `results.${call}.tunnel.simulatorCpuUsPerRequest`, 'µs')}, all three ${n(t, `results.${call}.tunnel.totalCpuUsPerRequest`, 'µs CPU')}; sshd per request ${n(t, `results.${call}.tunnel.sshdReadCallsPerRequest`, 'reads')}, ${n(t, `results.${call}.tunnel.sshdWriteCallsPerRequest`, 'writes')}, ${n(t, `results.${call}.tunnel.sshdWakeupsPerRequest`, 'wake-ups')}; sshd CPU with our client ÷ with ssh -L ${n(t, `ratios.${call}.sshdCpuTunnelOverOpensshL`, '×')}`,
      );
    }
  }
  const f = report.inventory10kFetchNormalise;
  if (!failed('inventory10kFetchNormalise')) {
    lines.push(
      `2. 10k VMs, simulator in a child process, direct HTTP: fetch+parse+normalise by VmaClient.discover ${n(f, 'medianMs.vmaClientDiscoverEndToEnd', 'ms')} (target < 150 ms; 136 ms when filed) = ` +
        `the VMA's own answer ${n(f, 'vmaAnswerMs.answer', 'ms')} (produced in ${n(f, 'vmaAnswerMs.produce', 'ms')}) + the console's part ${n(f, 'consolePartMs', 'ms')} (${n(f, 'consoleAfterAnswerReadyMs', 'ms')} from the answer ready, transfer included), console CPU ${n(f, 'consoleCpuMsPerVmaClientDiscover', 'ms')} (whole-body parse instead of slices: ${n(f, 'wholeBodyClient.medianMs', 'ms')}, console's part ${n(f, 'wholeBodyClient.consolePartMs', 'ms')}, CPU ${n(f, 'wholeBodyClient.consoleCpuMsPerDiscover', 'ms')}); ` +
        `step by step with body.text(): ${n(f, 'medianMs.total', 'ms')} = HTTP+body ${n(f, 'medianMs.httpRequestAndBody', 'ms')} + JSON.parse ${n(f, 'medianMs.jsonParse', 'ms')} + normalise ${n(f, 'medianMs.normaliseDiscovery', 'ms')} for ${n(f, 'responseBytes', 'bytes')}, ` +
        `console CPU ${n(f, 'consoleCpuMsPerFetch', 'ms')} per fetch (wall times grow with the load average, CPU less)`,
    );
  }
  const r = report.inventory10kNormaliseAndRender;
  if (!failed('inventory10kNormaliseAndRender')) {
    lines.push(
      `2. 10k VMs: step by step with body.text(), simulator in this process (not the product path; see the line above for VmaClient.discover): fetch+parse+normalise ${n(r, 'fetchAndNormalise.medianMs.total', 'ms')}, normalise alone ${n(r, 'fetchAndNormalise.medianMs.normaliseDiscovery', 'ms')}; ` +
        `navigation→first row p50 ${n(r, 'render.navigationToFirstRowMs.p50', 'ms')} seen by the driver, goto→first row in the DOM ${n(r, 'render.gotoToFirstRowInDomMs.p50', 'ms')} on the wall clock, ${n(r, 'render.pageClockFirstRowInDomMs.p50', 'ms')} in the page's clock, painted at ${n(r, 'render.pageClockFirstRowPaintedMs.p50', 'ms')} (target < 300 ms; 690 ms when filed; first page contexts.page() ${n(r, 'contextsFirstPage.coreMs.p50', 'ms')} for ${n(r, 'contextsFirstPage.jsonBytes', 'bytes')}); ` +
        `navigation→full list p50 ${n(r, 'render.navigationToFullListMs.p50', 'ms')} (contexts.list() ${n(r, 'coreContextsListMs.p50', 'ms')} and its JSON ${n(r, 'contextsListJson.stringifyMs', 'ms')} for ${n(r, 'contextsListJson.bytes', 'bytes')}); ` +
        `scroll frames p50 ${n(r, 'render.scrollFrames.frameMs.p50', 'ms')}, p99 ${n(r, 'render.scrollFrames.frameMs.p99', 'ms')} (target one frame, 16.7 ms), max ${n(r, 'render.scrollFrames.frameMs.max', 'ms')}, main thread ${n(r, 'render.scrollFrames.mainThreadMsPerFrame.task', 'ms/frame')}` +
        (get(r, 'render.rowSelectorMissing') === true ? ' [ROW SELECTOR MISSING]' : ''),
    );
  }
  const e = report.engineOverheadPerJob;
  if (!failed('engineOverheadPerJob')) {
    lines.push(
      `3. engine: initial sync ${n(e, 'initial.wallMs', 'ms')} wall, console outside the simulators ${n(e, 'initial.consoleOutsideSimulatorsMs', 'ms')}, ${n(e, 'initial.processCpuMs.totalMs', 'ms')} CPU (incl. simulators); ` +
        `incremental median ${n(e, 'incrementalMedian.wallMs', 'ms')} wall, console outside the simulators ${n(e, 'incrementalMedian.consoleOutsideSimulatorsMs', 'ms')}, ${n(e, 'incrementalMedian.processCpuTotalMs', 'ms')} CPU`,
    );
    lines.push(
      `   incremental "Publish NBD exports" ${n(e, 'incrementalMedian.publishExportsStepMs', 'ms')} with ${n(e, 'incrementalMedian.omaSshCommands', 'SSH commands')} for 2 disks (target ≤ 1 per disk; 2.4 s and several per disk when filed); ` +
        `last change-ID callback → settled ${n(e, 'incrementalMedian.lastChangeIdCallbackToSettledMs', 'ms')} (target ≤ 500 ms; up to one 2 s poll when filed)`,
    );
  }
  const p = report.pollerRunningJobs;
  if (!failed('pollerRunningJobs')) {
    lines.push(
      `4. ${n(p, 'runningJobs', 'jobs')} @2 s through the ${String(get(p, 'route') ?? 'n/a')}: console CPU ${n(p, 'consoleProcess.cpuSharePercent', '% of a core')} (target < 10 %; anchor: 500 jobs took 17.8 % when filed), ` +
        `${n(p, 'consoleProcess.cpuSecondsPerPass', 'CPU s/pass')}, ${n(p, 'consoleProcess.cpuMsPerPoll', 'ms CPU/poll')} at ${n(p, 'consoleProcess.pollsPerSecond', 'polls/s')} → ${n(p, 'consoleProcess.cpuSharePercentAtTargetRate', '% of a core')} at the target's ${n(p, 'consoleProcess.targetPollsPerSecond', 'polls/s')}, ` +
        `of which the poller settling answers ${n(p, 'consoleProcess.settleMsPerPoll', 'ms/poll')} = ${n(p, 'consoleProcess.settleSharePercentAtTargetRate', '% of a core')} (the rest is asking: HTTP through the tunnel); ` +
        `simulator child ${n(p, 'simulatorChildProcess.cpuSharePercent', '% of a core')} (not counted), poller pass p50 ${n(p, 'window.tickMs.p50', 'ms')}, ` +
        `DB ${n(p, 'database.statementRunsPerSecond', 'writes/s')} (${n(p, 'database.rowsChangedPerSecond', 'rows/s')}), ` +
        `events ${n(p, 'eventsToRenderer.busFlushesPerSecond', 'flushes/s')} / ${n(p, 'eventsToRenderer.jobProgressUpdatesPerSecond', 'job updates/s')}, ` +
        `frames p50 ${n(p, 'renderer.framesDuringLiveUpdates.frameMs.p50', 'ms')} p99 ${n(p, 'renderer.framesDuringLiveUpdates.frameMs.p99', 'ms')}`,
    );
    const where = get(p, 'whereTheCpuGoes.byModulePercentOfCore') as Obj | undefined;
    if (where) {
      lines.push(
        `   where it goes (profiled window, % of a core): ${Object.entries(where)
          .slice(0, 8)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')}`,
      );
    }
  }
  const o = report.idleOwner;
  if (!failed('idleOwner')) {
    lines.push(`5. idle owner (mkc serve, no jobs): ${n(o, 'window.cpuSharePercent', '% of a core')} (target < 1 %)`);
  }
  const sc = report.schedulerRun1000;
  if (!failed('schedulerRun1000')) {
    lines.push(
      `6. schedule run, ${n(sc, 'vms', 'VMs')} in ${n(sc, 'groups', 'groups')}, limit ${String(get(sc, 'concurrencyLimit') ?? 'n/a')}: all dispatched in ${n(sc, 'dispatchAllMs', 'ms')}, run ${n(sc, 'runWallMs', 'ms')} wall ` +
        `(anchor: ${n(sc, 'idealWallMs', 'ms')} = waves × ${n(sc, 'standInJobMs', 'ms')} stand-in jobs with zero overhead); scheduler overhead ${n(sc, 'schedulerOverheadPerVmMs', 'ms/VM')} wall, ${n(sc, 'consoleCpuMsPerVm', 'ms CPU/VM')}; ` +
        `slot refill p50 ${n(sc, 'slotRefillMs.p50', 'ms')} p99 ${n(sc, 'slotRefillMs.p99', 'ms')}`,
    );
    lines.push(
      `   VMA discovery requests per run ${String(get(sc, 'discovery.vmaDiscoverRequests') ?? 'n/a')} (batched per VMA and credential; one per VM would be ${String(get(sc, 'vms') ?? 'n/a')}; each p50 ${n(sc, 'discovery.callMs.p50', 'ms')}, max ${n(sc, 'discovery.callMs.max', 'ms')}); ` +
        `max running ${String(get(sc, 'maxRunning.max') ?? 'n/a')} (must be ≤ ${String(get(sc, 'concurrencyLimit') ?? 'n/a')}; the section fails otherwise)`,
    );
    lines.push(`   NOTE: ${String(get(sc, 'method'))}`);
  }
  lines.push(`total ${n(report, 'totalWallSeconds', 's')}`);
  return lines.join('\n');
}
