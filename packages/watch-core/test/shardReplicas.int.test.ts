// Sharded watchers as replica processes on the real control plane, with ShardedListAndWatch on and off: 3 replicas,
// 3,000 ConfigMaps created and each changed once in bursts, one replica killed (SIGKILL) and one added meanwhile. The
// replicas' ledgers (every owned-range change and every item taken, with its time) must show: no hash owned by two
// replicas at once; every delivery inside its replica's ranges at that instant; each change delivered live at most
// once, and every change delivered (live, or in the sync of a range that moved); the dead replica's ranges owned again
// within the lease duration + 5 s; the final version of every object held by its final owner.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE, type HashRange, inRanges, KubeClient, readKubeconfig } from '../src/index.ts';
import { cp } from './helpers.ts';

const LEASE_MS = 4000;
const RENEW_MS = 500;
const OBJECTS = 3000;
const replicaScript = join(import.meta.dirname, 'fixtures', 'shardReplica.ts');

type Line = {
  r: string;
  ts: number;
  owned?: [string, string][];
  m?: string;
  t?: string;
  uid?: string;
  name?: string;
  rv?: string;
  synthetic?: boolean;
  tombstone?: boolean;
  started?: boolean;
};
type Write = { name: string; uid: string; rv: string };

const toRanges = (owned: [string, string][]): HashRange[] => owned.map(([s, e]) => ({ start: BigInt(s), end: BigInt(e) }));
const size = (rs: readonly HashRange[]) => rs.reduce((a, r) => a + (r.end - r.start), 0n);
const overlaps = (a: readonly HashRange[], b: readonly HashRange[]) =>
  a.some((p) => b.some((q) => p.start < q.end && q.start < p.end));
const union = (lists: HashRange[][]): HashRange[] => {
  const all = lists.flat().sort((x, y) => (x.start < y.start ? -1 : 1));
  const out: HashRange[] = [];
  for (const r of all) {
    const last = out.at(-1);
    if (last && r.start <= last.end) {
      if (r.end > last.end) out[out.length - 1] = { start: last.start, end: r.end };
    } else out.push(r);
  }
  return out;
};

async function pool<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

class Replica {
  readonly ledger: string;
  readonly child: ChildProcess;
  readonly id: string;
  diedAt: number | undefined;
  constructor(dir: string, kubeconfigPath: string, namespace: string, id: string) {
    this.id = id;
    this.ledger = join(dir, `${id}.jsonl`);
    this.child = spawn(
      process.execPath,
      [
        '--conditions=@kwatch/source',
        replicaScript,
        kubeconfigPath,
        namespace,
        id,
        this.ledger,
        String(LEASE_MS),
        String(RENEW_MS),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  lines(): Line[] {
    try {
      return readFileSync(this.ledger, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Line);
    } catch {
      return [];
    }
  }
  owned(): HashRange[] {
    if (this.diedAt !== undefined) return [];
    const last = this.lines().findLast((l) => l.owned !== undefined);
    return last?.owned ? toRanges(last.owned) : [];
  }
  kill(): void {
    this.child.kill('SIGKILL');
    this.diedAt = Date.now();
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.diedAt !== undefined) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scenario(kubeconfigPath: string, gate: boolean): Promise<Record<string, number>> {
  const client = new KubeClient({ kubeConfig: readKubeconfig({ path: kubeconfigPath }) });
  const namespace = `ledger-${gate ? 'on' : 'off'}-${Date.now().toString(36)}`;
  const signal = () => AbortSignal.timeout(20_000);
  await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: namespace } }, signal: signal() });
  const dir = mkdtempSync(join(tmpdir(), 'kw-ledger-'));
  const replicas = ['r1', 'r2', 'r3'].map((id) => new Replica(dir, kubeconfigPath, namespace, id));
  const live = () => replicas.filter((r) => r.diedAt === undefined);
  const covered = () => size(union(live().map((r) => r.owned()))) === HASH_SPACE;
  const writes: Write[] = [];
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  try {
    await until('three replicas own the whole space', covered, 20_000);
    // Created live.
    const names = Array.from({ length: OBJECTS }, (_, i) => `cm-${i}`);
    await pool(names, 16, async (name) => {
      const cm = await client.request<{ metadata: { uid: string; resourceVersion: string } }>({
        method: 'POST',
        path,
        body: { metadata: { name }, data: { v: '0' } },
        signal: signal(),
      });
      writes.push({ name, uid: cm.metadata.uid, rv: cm.metadata.resourceVersion });
    });
    // Each changed once, in bursts of 100; r2 killed after the 8th burst, r4 added after the 18th.
    let killedAt = 0;
    for (let burst = 0; burst < OBJECTS / 100; burst++) {
      await pool(names.slice(burst * 100, burst * 100 + 100), 16, async (name) => {
        const cm = await client.request<{ metadata: { uid: string; resourceVersion: string } }>({
          method: 'PUT',
          path: `${path}/${name}`,
          body: { metadata: { name }, data: { v: '1' } },
          signal: signal(),
        });
        writes.push({ name, uid: cm.metadata.uid, rv: cm.metadata.resourceVersion });
      });
      if (burst === 7) {
        (replicas[1] as Replica).kill();
        killedAt = Date.now();
      }
      if (burst === 17) replicas.push(new Replica(dir, kubeconfigPath, namespace, 'r4'));
      await new Promise((r) => setTimeout(r, 150));
    }
    // Settled: the space covered, and every object's last version held by the replica that owns it now.
    const last = new Map<string, Write>();
    for (const w of writes) if (!last.has(w.uid) || Number(w.rv) > Number(last.get(w.uid)?.rv)) last.set(w.uid, w);
    const holds = () => {
      const got = new Map<string, Set<string>>();
      for (const r of live())
        for (const l of r.lines())
          if (l.uid && !l.tombstone) got.set(`${r.id} ${l.uid}`, (got.get(`${r.id} ${l.uid}`) ?? new Set()).add(l.rv as string));
      return [...last.values()].every((w) => {
        const owner = live().find((r) => inRanges(w.uid, r.owned()));
        return owner !== undefined && got.get(`${owner.id} ${w.uid}`)?.has(w.rv) === true;
      });
    };
    await until('every object at its last version with its owner', () => covered() && holds(), 60_000);

    // The ledgers.
    const all = replicas.map((r) => ({ r, lines: r.lines() }));
    // 1. No hash owned by two replicas at once (the dead one owns nothing from its death on).
    const changes = all
      .flatMap(({ r, lines }) => [
        ...lines.filter((l) => l.owned).map((l) => ({ r: r.id, ts: l.ts, ranges: toRanges(l.owned ?? []) })),
        ...(r.diedAt ? [{ r: r.id, ts: r.diedAt, ranges: [] as HashRange[] }] : []),
      ])
      .sort((x, y) => x.ts - y.ts || (size(x.ranges) < size(y.ranges) ? -1 : 1));
    const now = new Map<string, HashRange[]>();
    let doubleOwned = 0;
    for (const c of changes) {
      now.set(c.r, c.ranges);
      for (const [other, ranges] of now) if (other !== c.r && overlaps(c.ranges, ranges)) doubleOwned += 1;
    }
    expect(doubleOwned).toBe(0);
    // 2. Every delivery (but a tombstone, which lets go) within its replica's ranges at that instant.
    let outside = 0;
    for (const { lines } of all) {
      let owned: HashRange[] = [];
      for (const l of lines) {
        if (l.owned) owned = toRanges(l.owned);
        else if (l.uid && !l.tombstone && !inRanges(l.uid, owned)) outside += 1;
      }
    }
    expect(outside).toBe(0);
    // 3. Each change delivered live at most once (over all replicas), and every change delivered.
    const liveCount = new Map<string, number>();
    const delivered = new Map<string, number[]>();
    for (const { lines } of all)
      for (const l of lines) {
        if (!l.uid || l.tombstone) continue;
        if (!l.synthetic) liveCount.set(`${l.uid}@${l.rv}`, (liveCount.get(`${l.uid}@${l.rv}`) ?? 0) + 1);
        delivered.set(l.uid, [...(delivered.get(l.uid) ?? []), Number(l.rv)]);
      }
    const twice = [...liveCount.values()].filter((n) => n > 1).length;
    expect(twice).toBe(0);
    const lost = writes.filter((w) => !(delivered.get(w.uid) ?? []).some((rv) => rv >= Number(w.rv)));
    expect(lost).toEqual([]);
    const viaSync = writes.filter((w) => !liveCount.has(`${w.uid}@${w.rv}`)).length;
    // A change delivered live by one replica and again, as state, in the sync of the replica its object moved to.
    const syncedBy = new Map<string, Set<string>>();
    for (const { r, lines } of all)
      for (const l of lines)
        if (l.uid && l.synthetic && !l.tombstone)
          syncedBy.set(`${l.uid}@${l.rv}`, (syncedBy.get(`${l.uid}@${l.rv}`) ?? new Set()).add(r.id));
    const liveBy = new Map<string, string>();
    for (const { r, lines } of all)
      for (const l of lines) if (l.uid && !l.synthetic && !l.tombstone) liveBy.set(`${l.uid}@${l.rv}`, r.id);
    const handoffRedeliveries = [...liveBy].filter(([k, r]) => [...(syncedBy.get(k) ?? [])].some((x) => x !== r)).length;
    // 4. The dead replica's ranges owned again within the lease duration + 5 s.
    let coveredAgainAt = 0;
    {
      const state = new Map<string, HashRange[]>();
      for (const c of changes) {
        state.set(c.r, c.ranges);
        if (c.ts >= killedAt && size(union([...state.values()])) === HASH_SPACE) {
          coveredAgainAt = c.ts;
          break;
        }
      }
    }
    const takeoverMs = coveredAgainAt - killedAt;
    expect(coveredAgainAt).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 5000);
    // 5. The added replica took a part.
    expect(size((replicas[3] as Replica).owned())).toBeGreaterThan(0n);
    return {
      writes: writes.length,
      liveDeliveries: [...liveCount.values()].reduce((a, b) => a + b, 0),
      deliveredViaSync: viaSync,
      handoffRedeliveries,
      takeoverMs,
      resyncs: all.reduce((a, { lines }) => a + lines.filter((l) => l.m === 'RESYNC').length, 0),
    };
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

describe('sharded replicas (processes) with a ledger', () => {
  it('without ShardedListAndWatch (client-side filtering)', async () => {
    const figures = await scenario(cp.kubeconfigPath, false);
    console.log(`shard ledger, gate off: ${JSON.stringify(figures)}`);
  }, 240_000);

  it('with ShardedListAndWatch (server-side filtering)', async () => {
    await using gated = await startControlPlane({ featureGates: { ShardedListAndWatch: true } });
    const figures = await scenario(gated.kubeconfigPath, true);
    console.log(`shard ledger, gate on: ${JSON.stringify(figures)}`);
  }, 240_000);
});
