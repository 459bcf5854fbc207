/**
 * storm: how many requests a client sends to a server that misbehaves. A scripted HTTPS server
 * (@kwatch/testenv's ScriptedServer: ConfigMaps, a fixed list of 3) answers every watch — plain
 * and WatchList (`sendInitialEvents=true`) alike — in one mode for the whole window:
 *  - closeAtOnce: 200, then the body ends at once without an event (a broken proxy, a server shutting down);
 *  - goneForever: HTTP 410 Gone (Status reason Expired), every time.
 * Each mode runs twice: with WatchList requests served like the others (`watchList: served`: a client
 * that starts with a WatchList never syncs) and refused with 422 as by a server with the WatchList
 * feature gate off (`watchList: refused`: clients LIST, which succeeds, then watch).
 * Each implementation runs in a process of its own (kwatch's managed Watcher, client-go's informer,
 * client-node's informer) for a fixed window that starts at its first request; the server counts
 * LIST and watch requests with timestamps. Reported: requests per minute by kind, the most requests
 * in any 1-second window, and the CPU the peer and the server spent (the server runs in this process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type ScriptedMode, type ScriptedServer, startScriptedServer } from '@kwatch/testenv';
import { buildPeer, peerCommand } from './peers/build.ts';
import { cpuSeconds, peakRssMB } from './procstat.ts';
import { median } from './stats.ts';

const IMPLS = ['kwatch', 'client-go', 'client-node'] as const;
type Impl = (typeof IMPLS)[number];
const MODES: readonly ScriptedMode[] = ['closeAtOnce', 'goneForever'];
const WATCH_LIST = ['served', 'refused'] as const;
type WatchListSupport = (typeof WATCH_LIST)[number];
const NAMESPACE = 'storm';

function command(impl: Impl): [string, string[]] {
  if (impl === 'client-go') {
    const [cmd, lead] = peerCommand('client-go');
    return [cmd, [...lead, 'storm', NAMESPACE]];
  }
  const file = join(import.meta.dirname, 'peers', 'node', 'storm.ts');
  return [process.execPath, ['--conditions=@kwatch/source', file, impl, NAMESPACE]];
}

/** The most timestamps (ms, sorted) within any window of `windowMs`. */
function maxInWindow(sorted: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo += 1;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

interface Sample {
  list: number;
  watch: number;
  watchList: number;
  maxPerSecond: number;
  peerCpuPct: number;
  serverCpuPct: number;
  peakRssMB: number;
  seconds: number;
  note: string | undefined;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function measure(
  server: ScriptedServer,
  impl: Impl,
  mode: ScriptedMode,
  watchList: WatchListSupport,
  seconds: number,
): Promise<Sample> {
  server.mode = mode;
  server.watchList = watchList === 'served';
  server.reset();
  const [cmd, args] = command(impl);
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, KUBECONFIG: server.kubeconfigPath },
  });
  // client-go logs every failed watch: keep only the tail, for a peer that dies.
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    const pid = child.pid as number;
    const started = await waitFor(() => Object.values(server.counts()).some((n) => n > 0) || !alive(), 60_000);
    if (!started || !alive()) throw new Error(`${impl} sent no request (${alive() ? 'timeout' : 'exited'}): ${stderr}`);
    const t0 = server.timestamps()[0] as number;
    const cpu0 = cpuSeconds(pid);
    const server0 = process.cpuUsage();
    const wall0 = performance.now();
    await waitFor(() => !alive(), t0 + seconds * 1000 - performance.now());
    const t1 = Math.min(performance.now(), t0 + seconds * 1000);
    const note = alive() ? undefined : `exited (${child.exitCode ?? child.signalCode}) after ${((t1 - t0) / 1000).toFixed(1)} s`;
    const peerCpu = alive() ? cpuSeconds(pid) - cpu0 : Number.NaN;
    const rss = alive() ? peakRssMB(pid) : Number.NaN;
    const serverCpu = process.cpuUsage(server0);
    const wall = (performance.now() - wall0) / 1000;
    const inWindow = (ts: number[]) => ts.filter((t) => t >= t0 && t < t1);
    const list = inWindow(server.timestamps('list'));
    const watch = inWindow(server.timestamps('watch'));
    const watchList = inWindow(server.timestamps('watchList'));
    if (note) console.error(`bench storm: ${impl} ${note}: ${stderr.slice(-1000)}`);
    return {
      list: list.length,
      watch: watch.length,
      watchList: watchList.length,
      maxPerSecond: maxInWindow(
        [...list, ...watch, ...watchList].sort((a, b) => a - b),
        1000,
      ),
      peerCpuPct: (peerCpu / wall) * 100,
      serverCpuPct: ((serverCpu.user + serverCpu.system) / 1e6 / wall) * 100,
      peakRssMB: rss,
      seconds: (t1 - t0) / 1000,
      note,
    };
  } finally {
    await end(child);
  }
}

export async function runStorm(
  options: {
    seconds?: number;
    rounds?: number;
    impls?: readonly Impl[];
    modes?: readonly ScriptedMode[];
    watchList?: readonly WatchListSupport[];
    log?: (s: string) => void;
  } = {},
): Promise<object[]> {
  const seconds = options.seconds ?? 20;
  const rounds = options.rounds ?? 1;
  const impls = options.impls ?? IMPLS;
  const modes = options.modes ?? MODES;
  const variants = modes.flatMap((mode) => (options.watchList ?? WATCH_LIST).map((watchList) => ({ mode, watchList })));
  const log = options.log ?? ((s: string) => console.error(`bench storm: ${s}`));
  for (const impl of impls)
    if (!IMPLS.includes(impl)) throw new Error(`storm: unknown impl '${impl}'; known: ${IMPLS.join(', ')}`);
  if (impls.includes('client-go')) await buildPeer('client-go');
  const server = await startScriptedServer({ namespace: NAMESPACE });
  const samples = new Map<string, Sample[]>();
  try {
    for (const { mode, watchList } of variants) {
      for (let r = 0; r < rounds; r++) {
        for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
          const s = await measure(server, impl, mode, watchList, seconds);
          log(
            `${mode} (WatchList ${watchList}) round ${r + 1} ${impl}: ${s.list} lists, ${s.watch} watches, ${s.watchList} WatchLists in ${s.seconds.toFixed(1)} s; max ${s.maxPerSecond}/s`,
          );
          const key = `${impl} ${mode} ${watchList}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
        }
      }
    }
  } finally {
    await server.stop();
  }
  const rows: object[] = [];
  for (const { mode, watchList } of variants) {
    for (const impl of impls) {
      const s = samples.get(`${impl} ${mode} ${watchList}`) ?? [];
      const m = (f: (x: Sample) => number) => median(s.map(f));
      const perMin = (f: (x: Sample) => number) => Math.round(m((x) => (f(x) * 60) / x.seconds));
      const notes = s.map((x) => x.note).filter(Boolean);
      rows.push({
        scenario: 'storm',
        impl,
        mode,
        watchList,
        listPerMin: perMin((x) => x.list),
        watchPerMin: perMin((x) => x.watch + x.watchList),
        watchListPerMin: perMin((x) => x.watchList),
        maxPerSecond: m((x) => x.maxPerSecond),
        peerCpuPct: Math.round(m((x) => x.peerCpuPct)),
        serverCpuPct: Math.round(m((x) => x.serverCpuPct)),
        peakRssMB: m((x) => x.peakRssMB),
        seconds,
        rounds,
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      });
    }
  }
  return rows;
}
