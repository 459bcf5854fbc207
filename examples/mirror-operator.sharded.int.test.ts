// The mirror operator as 3 sharded replicas (each its own ShardRing member, informers and connections) on the real
// control plane: 600 ConfigMaps split between them, changed in bursts while one replica crashes (its Lease left to
// expire) — it converges, every replica takes part, no key is ever reconciled by two replicas at once.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane } from '@kwatch/testenv';
import { ShardRing } from '@kwatch/watch-core';
import { expect, inject, it } from 'vitest';
import { digest, mirrorOperator, SYNCED } from './mirror-operator.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function many(count: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function converged(ns: string): Promise<boolean> {
  const cms = (await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'mirror=yes' })).items;
  const secrets = new Map((await core.listNamespacedSecret({ namespace: ns })).items.map((s) => [s.metadata?.name, s]));
  const ok = cms.every((cm) => {
    const s = secrets.get(`${cm.metadata?.name}-mirror`);
    const data = Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    return s && JSON.stringify(data) === JSON.stringify(cm.data ?? {}) && cm.metadata?.annotations?.[SYNCED] === digest(cm.data);
  });
  return ok && secrets.size === cms.length;
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('3 sharded replicas converge through a crash; no key reconciled by two at once', async () => {
  const ns = `mirror-sharded-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const N = 600;
  await many(N, 16, (i) =>
    core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: `cm-${i}`, labels: { mirror: 'yes' } }, data: { v: '0', i: String(i) } },
    }),
  );
  // Who runs each key now, over all replicas; and what each replica did.
  const running = new Map<string, string>();
  const overlaps: string[] = [];
  const reconciles = new Map<string, number>();
  const replicas = ['r1', 'r2', 'r3'].map((id) => {
    const ring = new ShardRing({
      name: 'mirror',
      namespace: ns,
      identity: id,
      kubeConfig: cp.kubeConfig,
      leaseDurationMs: 4000,
      renewIntervalMs: 500,
    });
    const observe = (key: string, _object: ConfigMap | undefined, phase: 'start' | 'end' | 'wrote'): void => {
      if (phase === 'start') {
        reconciles.set(id, (reconciles.get(id) ?? 0) + 1);
        const other = running.get(key);
        if (other !== undefined) overlaps.push(`${key}: ${other} and ${id}`);
        running.set(key, id);
      } else if (phase === 'end' && running.get(key) === id) running.delete(key);
    };
    const operator = mirrorOperator({ namespace: ns, kubeConfig: cp.kubeConfig, observe, shard: ring });
    const stop = new AbortController();
    return { id, ring, operator, stop, done: operator.run({ signal: stop.signal }) };
  });
  try {
    await until('the initial 600 mirrored by the three', () => converged(ns), 120_000);
    expect([...reconciles.keys()].sort()).toEqual(['r1', 'r2', 'r3']);

    // Bursts of changes; r3 crashes in the middle (it stops without leaving: the others wait for its Lease to expire).
    const crashAfter = 100;
    let changed = 0;
    const crashed = replicas[2] as (typeof replicas)[number];
    await many(300, 8, async (i) => {
      await core.patchNamespacedConfigMap({
        namespace: ns,
        name: `cm-${i}`,
        body: [{ op: 'replace', path: '/data/v', value: '1' }],
      });
      if (++changed === crashAfter) {
        crashed.stop.abort();
        await crashed.ring.stop({ crash: true });
      }
    });
    const before = new Map(reconciles);
    await until('every change mirrored after the crash', () => converged(ns), 120_000);
    // The survivors took over r3's part. Each drops r3 at its own next round after the Lease expired, so one may
    // already hold every key that changed while the other still lists r3: wait for both, within a renew interval.
    await until('both survivors dropped r3', () => replicas.slice(0, 2).every((r) => r.ring.members().join() === 'r1,r2'), 5_000);

    // Deletions are cleaned up by whichever replica owns each ConfigMap.
    await many(50, 16, (i) => core.deleteNamespacedConfigMap({ namespace: ns, name: `cm-${i}` }));
    await until(
      '50 deleted with their Secrets',
      async () => (await core.listNamespacedConfigMap({ namespace: ns })).items.length === N - 50 && (await converged(ns)),
      60_000,
    );
    console.log(
      `sharded mirror operator: reconciles per replica ${JSON.stringify(Object.fromEntries(reconciles))} (after the bursts, before convergence ${JSON.stringify(Object.fromEntries(before))}); overlaps ${overlaps.length}`,
    );
    expect(overlaps).toEqual([]);
  } finally {
    for (const r of replicas) r.stop.abort();
    await Promise.allSettled(replicas.map((r) => r.done));
    await Promise.all(replicas.map((r) => r.ring.stop()));
  }
}, 300_000);
