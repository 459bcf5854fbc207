/**
 * shards: sharded watches across replica processes on a real control plane. 20,000 ConfigMaps in one namespace; for
 * 1, 2 and 4 replicas (bench/peers/node/shard-kwatch.ts: a ShardRing with a 4 s lease renewed every 500 ms, a Watcher
 * with `shard: ring` feeding a Store), with server-side filtering (a control plane with `ShardedListAndWatch`: the
 * server honours `shardSelector`) and client-side filtering (without the gate: every replica receives every object
 * and drops the others'). Per replica, from `start` (the ring joined, the watch begun) until the ring has settled
 * (every replica synced with its ranges, holding nothing outside them, the ranges tiling the hash space): CPU seconds,
 * RSS, bytes read (`rchar` of /proc/<pid>/io: what the process read through read(2) — the TLS stream from the API
 * server, Lease traffic included, and the kubeconfig and its certificates, a few KB, read at the first request) and
 * objects held. Then, for 2 and 4 replicas, the last replica is killed with SIGKILL (times until the survivors own its
 * ranges, and until they have synced them) and a new one joins (times from its `start` until the space is covered
 * again without overlap, and until every replica has synced its new ranges). Each time the ring settles, the objects
 * held summed over the replicas must be every object created and each replica must hold exactly the objects its
 * ranges select (their uids are known): the run fails otherwise. Rounds (default 3) repeat each replica count on the
 * same objects; figures are medians (per replica, by replica index: identities are r0, r1, … in every round, so each
 * index owns the same ranges every time).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startControlPlane } from '@kwatch/testenv';
import { HASH_SPACE, type HashRange, inRanges } from '@kwatch/watch-core';
import { Writer } from './cluster.ts';
import { nodePeer } from './peers/build.ts';
import { cpuSeconds, rssMB } from './procstat.ts';
import { median } from './stats.ts';

const LEASE_MS = 4000;
const RENEW_MS = 500;
const HANDOFF_MS = 3 * RENEW_MS; // ShardRing's default
const FILTERINGS = ['server', 'client'] as const;
type Filtering = (typeof FILTERINGS)[number];

/** Bytes the process has read through read(2) and friends (`rchar`), sockets included. */
function readBytes(pid: number): number {
  const m = /^rchar:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

interface Status {
  synced: boolean;
  held: number;
  outside: number;
  rangesChangedAt: number;
  syncedAt: number;
  filtering: string;
  ranges: HashRange[];
}

/** One replica process, speaking shard-kwatch.ts's protocol. */
class Replica {
  readonly id: string;
  readonly child: ChildProcess;
  readonly pid: number;
  killed = false;
  #exited: string | undefined;
  #ready: Promise<void>;
  #statusWaiters: Array<(s: Status) => void> = [];
  /** Before `start`: CPU seconds and bytes read. */
  cpu0 = 0;
  read0 = 0;

  constructor(id: string, cmd: [string, string[]], namespace: string, ring: string, kubeconfig: string) {
    this.id = id;
    this.child = spawn(cmd[0], [...cmd[1], namespace, ring, id, String(LEASE_MS), String(RENEW_MS)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    this.pid = this.child.pid as number;
    let readyResolve: () => void = () => {};
    let readyReject: (e: Error) => void = () => {};
    this.#ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.#ready.catch(() => {});
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const [word, ...rest] = line.split(' ');
      if (word === 'ready') readyResolve();
      else if (word === 'status') this.#statusWaiters.shift()?.(parseStatus(rest));
    });
    this.child.on('exit', (code, signal) => {
      this.#exited = `replica ${id} exited (${code ?? signal})`;
      readyReject(new Error(this.#exited));
    });
  }

  async ready(): Promise<void> {
    await withTimeout(this.#ready, 60_000, `replica ${this.id} ready`);
    this.cpu0 = cpuSeconds(this.pid);
    this.read0 = readBytes(this.pid);
  }

  start(): void {
    this.child.stdin?.write('start\n');
  }

  status(): Promise<Status> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    const answer = new Promise<Status>((resolve) => this.#statusWaiters.push(resolve));
    this.child.stdin?.write('status\n');
    return withTimeout(answer, 10_000, `status of replica ${this.id}`);
  }

  kill(): void {
    this.killed = true;
    this.child.kill('SIGKILL');
  }

  /** Leaves the ring (the peer deletes its Lease when stdin closes) and exits. */
  async finish(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin?.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function parseStatus(words: string[]): Status {
  const [synced, held, outside, changedAt, syncedAt, filtering, ranges] = words;
  return {
    synced: synced === '1',
    held: Number(held),
    outside: Number(outside),
    rangesChangedAt: Number(changedAt),
    syncedAt: Number(syncedAt),
    filtering: filtering ?? '-',
    ranges:
      !ranges || ranges === '-'
        ? []
        : ranges.split(',').map((r) => {
            const [s, e] = r.split('-');
            return { start: BigInt(`0x${s}`), end: BigInt(`0x${e}`) };
          }),
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const size = (rs: readonly HashRange[]): bigint => rs.reduce((a, r) => a + (r.end - r.start), 0n);

/** Whether `lists` tile the hash space: their sizes add up to it and they do not overlap. */
function tiles(lists: readonly (readonly HashRange[])[]): boolean {
  const all = lists.flat().sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  let at = 0n;
  for (const r of all) {
    if (r.start !== at) return false; // a gap, or an overlap
    at = r.end;
  }
  return at === HASH_SPACE;
}

/**
 * Waits until every live replica is synced with its (non-empty) ranges, holds nothing outside them, and the ranges
 * tile the hash space; returns the statuses then.
 */
async function settle(replicas: readonly Replica[], what: string, timeoutMs = 120_000): Promise<Status[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Status[] = [];
  for (;;) {
    last = await Promise.all(replicas.map((r) => r.status()));
    if (last.every((s) => s.synced && s.outside === 0 && s.ranges.length > 0) && tiles(last.map((s) => s.ranges))) return last;
    if (Date.now() > deadline) {
      const detail = last.map(
        (s, i) =>
          `${replicas[i]?.id}: synced=${s.synced} held=${s.held} outside=${s.outside} share=${Number((size(s.ranges) * 10_000n) / HASH_SPACE) / 100}%`,
      );
      throw new Error(`shards: not settled within ${timeoutMs} ms (${what}): ${detail.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Objects held summed over the replicas must be every object, and each replica must hold exactly its ranges' objects. */
function checkHeld(replicas: readonly Replica[], statuses: readonly Status[], uids: readonly string[], what: string): void {
  const total = statuses.reduce((a, s) => a + s.held, 0);
  const expected = statuses.map((s) => uids.filter((u) => inRanges(u, s.ranges)).length);
  const wrong = statuses.flatMap((s, i) =>
    s.held === expected[i] ? [] : [`${replicas[i]?.id} holds ${s.held}, its ranges have ${expected[i]}`],
  );
  if (total !== uids.length || wrong.length > 0) {
    throw new Error(`shards (${what}): replicas hold ${total} objects in all, expected ${uids.length}; ${wrong.join('; ')}`);
  }
}

interface Sample {
  ownedMs: number;
  syncMs: number;
  rssMB: number[];
  cpuSec: number[];
  readMB: number[];
  held: number[];
  killCoveredMs?: number;
  killSyncedMs?: number;
  joinCoveredMs?: number;
  joinSyncedMs?: number;
  joinHeld?: number;
}

async function runOnce(
  kubeconfig: string,
  namespace: string,
  ring: string,
  n: number,
  uids: readonly string[],
  log: (s: string) => void,
): Promise<Sample> {
  const cmd = nodePeer('shard-kwatch.ts');
  const replicas: Replica[] = [];
  const spawnReplica = (id: string): Replica => {
    const r = new Replica(id, cmd, namespace, ring, kubeconfig);
    replicas.push(r);
    return r;
  };
  const live = () => replicas.filter((r) => !r.killed);
  try {
    for (let i = 0; i < n; i++) spawnReplica(`r${i}`);
    await Promise.all(replicas.map((r) => r.ready()));
    const t0 = Date.now();
    for (const r of replicas) r.start();
    const statuses = await settle(replicas, `${n} replicas syncing`);
    const settledAt = Math.max(...statuses.map((s) => s.syncedAt));
    checkHeld(replicas, statuses, uids, `${n} replicas synced`);
    const sample: Sample = {
      ownedMs: Math.max(...statuses.map((s) => s.rangesChangedAt)) - t0,
      syncMs: settledAt - t0,
      rssMB: replicas.map((r) => rssMB(r.pid)),
      cpuSec: replicas.map((r) => Number((cpuSeconds(r.pid) - r.cpu0).toFixed(2))),
      readMB: replicas.map((r) => Number(((readBytes(r.pid) - r.read0) / 1e6).toFixed(1))),
      held: statuses.map((s) => s.held),
    };
    log(`${n} replicas synced in ${sample.syncMs} ms: ${JSON.stringify(sample)}`);
    if (n >= 2) {
      // A crash: the survivors own the dead replica's ranges after its Lease expires, and sync them.
      const victim = replicas[n - 1] as Replica;
      const before = statuses.slice(0, n - 1);
      const tKill = Date.now();
      victim.kill();
      const after = await settle(live(), 'after the kill');
      checkHeld(live(), after, uids, 'after the kill');
      const gainers = after.filter((s, i) => size(s.ranges) > size(before[i]?.ranges ?? []));
      if (gainers.length === 0) throw new Error('shards: no survivor took over the dead replica’s ranges');
      sample.killCoveredMs = Math.max(...gainers.map((s) => s.rangesChangedAt)) - tKill;
      sample.killSyncedMs = Math.max(...gainers.map((s) => s.syncedAt)) - tKill;
      log(`kill: covered after ${sample.killCoveredMs} ms, synced after ${sample.killSyncedMs} ms`);
      // A join: the newcomer owns its ranges after the hand-off, once the others have let go of them.
      const joiner = spawnReplica(`r${n}`);
      await joiner.ready();
      const tJoin = Date.now();
      joiner.start();
      const joined = await settle(live(), 'after the join');
      checkHeld(live(), joined, uids, 'after the join');
      const mine = joined.at(-1) as Status;
      sample.joinCoveredMs = Math.max(...joined.map((s) => s.rangesChangedAt)) - tJoin;
      sample.joinSyncedMs = Math.max(...joined.map((s) => s.syncedAt)) - tJoin;
      sample.joinHeld = mine.held;
      log(`join: covered after ${sample.joinCoveredMs} ms, synced after ${sample.joinSyncedMs} ms, it holds ${mine.held}`);
    }
    return sample;
  } finally {
    await Promise.all(replicas.map((r) => r.finish()));
  }
}

export async function runShards(
  options: {
    objects?: number;
    replicas?: readonly number[];
    rounds?: number;
    filterings?: readonly Filtering[];
    log?: (s: string) => void;
  } = {},
): Promise<object[]> {
  const objects = options.objects ?? 20_000;
  const counts = options.replicas ?? [1, 2, 4];
  const rounds = options.rounds ?? 3;
  const filterings = options.filterings ?? FILTERINGS;
  const log = options.log ?? ((s: string) => console.error(`bench shards: ${s}`));
  const rows: object[] = [];
  for (const filtering of filterings) {
    log(`starting a control plane (${filtering}-side filtering)`);
    const cp = await startControlPlane({
      onProgress: log,
      ...(filtering === 'server' ? { featureGates: { ShardedListAndWatch: true } } : {}),
    });
    const writer = new Writer(cp, 16);
    const samples = new Map<number, Sample[]>();
    let populateMs = 0;
    try {
      const ns = 'bench-shards';
      await writer.createNamespace(ns);
      const t0 = performance.now();
      const uids: string[] = new Array(objects);
      await writer.many(objects, 32, async (i) => {
        const cm = (await writer.createConfigMap(ns, i)) as { metadata: { uid: string } };
        uids[i] = cm.metadata.uid;
      });
      populateMs = performance.now() - t0;
      log(`created ${objects} ConfigMaps in ${(populateMs / 1000).toFixed(1)} s`);
      for (let r = 0; r < rounds; r++) {
        for (const n of counts) {
          const sample = await runOnce(cp.kubeconfigPath, ns, `bench-${n}-${r}`, n, uids, (s) =>
            log(`${filtering} round ${r + 1}: ${s}`),
          );
          samples.set(n, [...(samples.get(n) ?? []), sample]);
        }
      }
    } finally {
      await writer.close();
      await cp.stop();
    }
    for (const n of counts) {
      const s = samples.get(n) ?? [];
      const m = (f: (x: Sample) => number | undefined) => {
        const xs = s.map(f).filter((x): x is number => x !== undefined);
        return xs.length === 0 ? undefined : median(xs);
      };
      const perReplica = (f: (x: Sample) => number[]) => Array.from({ length: n }, (_, i) => m((x) => f(x)[i]));
      rows.push({
        scenario: 'shards',
        impl: 'kwatch',
        filtering,
        replicas: n,
        objects,
        populateSec: Number((populateMs / 1000).toFixed(1)),
        ownedMs: m((x) => x.ownedMs),
        syncMs: m((x) => x.syncMs),
        rssMB: perReplica((x) => x.rssMB),
        cpuSec: perReplica((x) => x.cpuSec),
        readMB: perReplica((x) => x.readMB),
        held: perReplica((x) => x.held),
        ...(n >= 2
          ? {
              killCoveredMs: m((x) => x.killCoveredMs),
              killSyncedMs: m((x) => x.killSyncedMs),
              joinCoveredMs: m((x) => x.joinCoveredMs),
              joinSyncedMs: m((x) => x.joinSyncedMs),
              joinHeld: m((x) => x.joinHeld),
              boundKillMs: LEASE_MS + 2 * RENEW_MS,
              boundJoinMs: HANDOFF_MS + 2 * RENEW_MS,
            }
          : {}),
        rounds,
      });
    }
  }
  return rows;
}
