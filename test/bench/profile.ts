// Where the CPU of this process goes during a window: the V8 sampling profiler (node:inspector),
// self time attributed to source modules. The suite is one esbuild bundle, whose module boundaries
// are the `// main/…/x.ts` comments esbuild writes; functions without a script (native calls:
// SQLite statements, socket writes, crypto) count towards the nearest caller that has one, so a
// database write shows up under the repository that made it. Profiling adds CPU of its own: run it
// in a window of its own, never in the one whose CPU share is reported.
import fs from 'node:fs';
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { round } from './stats';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuBreakdown {
  windowMs: number;
  /** Profiled CPU (samples that were not idle) as % of one core over the window. */
  profiledCpuPercent: number;
  /** % of one core per module, largest first (native calls charged to their caller's module). */
  byModulePercentOfCore: Record<string, number>;
  /** Largest self-time functions as "function (module)": % of one core. */
  topFunctionsPercentOfCore: Record<string, number>;
}

const post = <T>(session: Session, method: string, params?: Record<string, unknown>): Promise<T> =>
  new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));

/** Module start lines in an esbuild bundle: `// main/engine/progress-poller.ts` etc. (0-based line numbers). */
function bundleModules(file: string): { line: number; name: string }[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { line: number; name: string }[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:main|shared|test|renderer)\/\S+\.tsx?)$/.exec(l);
    if (m) out.push({ line: i, name: m[1]! });
  });
  return out;
}

function moduleOf(frame: CallFrame, bundles: Map<string, { line: number; name: string }[]>): string | null {
  const url = frame.url;
  if (url === '') return null;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.startsWith('file://') && url.endsWith('.mjs')) {
    let table = bundles.get(url);
    if (!table) {
      table = bundleModules(fileURLToPath(url));
      bundles.set(url, table);
    }
    let name: string | null = null;
    for (const m of table) {
      if (m.line > frame.lineNumber) break;
      name = m.name;
    }
    return name ?? url.split('/').pop()!;
  }
  return url.split('/').slice(-2).join('/');
}

/** Profiles this process for `windowMs` and returns where its CPU went. */
export async function profileWindow(windowMs: number, samplingIntervalUs = 1000): Promise<CpuBreakdown> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await post(session, 'Profiler.start');
    await new Promise((r) => setTimeout(r, windowMs));
    const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
    // The raw profile, for call trees (Chrome DevTools or speedscope open it): MKC_BENCH_PROFILE_OUT=<file>.
    const out = process.env.MKC_BENCH_PROFILE_OUT;
    if (out) fs.writeFileSync(out, JSON.stringify(profile));
    return breakdown(profile, windowMs);
  } finally {
    session.disconnect();
  }
}

function breakdown(profile: CpuProfile, windowMs: number): CpuBreakdown {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const bundles = new Map<string, { line: number; name: string }[]>();
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busyUs += us;
    let module = moduleOf(frame, bundles);
    if (module === null) {
      if (frame.functionName === '(garbage collector)' || frame.functionName === '(program)') module = frame.functionName;
      else {
        // A native function: charge the nearest ancestor that has a script.
        for (let p = parent.get(id); p !== undefined && module === null; p = parent.get(p)) module = moduleOf(nodes.get(p)!.callFrame, bundles);
        module = `${module ?? '(native)'}`;
      }
    }
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} (${module})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const pct = (us: number) => round((us / 1000 / windowMs) * 100, 2);
  const top = (m: Map<string, number>, n: number) =>
    Object.fromEntries(
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => [k, pct(v)]),
    );
  return { windowMs, profiledCpuPercent: pct(busyUs), byModulePercentOfCore: top(byModule, 20), topFunctionsPercentOfCore: top(byFunction, 20) };
}
