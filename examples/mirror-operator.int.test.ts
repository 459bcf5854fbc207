// The mirror operator on the real control plane: 1,000 ConfigMaps, bursts of changes, an apiserver restart and an etcd
// compaction — it converges, never runs one key twice at once, never acts on its own stale state, cleans up on delete.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane } from '@kwatch/testenv';
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

/** True when every labelled ConfigMap has a Secret with its data and the annotation of that data, and no other Secret. */
async function converged(ns: string): Promise<{ ok: boolean; detail: string }> {
  const cms = (await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'mirror=yes' })).items;
  const secrets = new Map((await core.listNamespacedSecret({ namespace: ns })).items.map((s) => [s.metadata?.name, s]));
  let wrong = 0;
  for (const cm of cms) {
    const s = secrets.get(`${cm.metadata?.name}-mirror`);
    const data = Object.fromEntries(Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    if (!s || JSON.stringify(data) !== JSON.stringify(cm.data ?? {}) || cm.metadata?.annotations?.[SYNCED] !== digest(cm.data))
      wrong += 1;
  }
  const orphans = secrets.size - cms.length;
  return {
    ok: wrong === 0 && orphans === 0,
    detail: `${cms.length} ConfigMaps, ${wrong} not mirrored, ${orphans} orphan Secrets`,
  };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('converges on 1,000 ConfigMaps through bursts, an apiserver restart and an etcd compaction', async () => {
  const ns = `mirror-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const N = 1000;
  await many(N, 16, (i) =>
    core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: `cm-${i}`, labels: { mirror: 'yes' } }, data: { v: '0', i: String(i) } },
    }),
  );

  const running = new Set<string>();
  let overlaps = 0;
  let stale = 0;
  let reconciles = 0;
  let applies = 0;
  const lastWritten = new Map<string, bigint>();
  const observe = (key: string, object: ConfigMap | undefined, phase: 'start' | 'end' | 'wrote', rv?: string): void => {
    if (phase === 'start') {
      reconciles += 1;
      if (running.has(key)) overlaps += 1;
      running.add(key);
      const seen = object?.metadata?.resourceVersion;
      const mine = lastWritten.get(key);
      if (seen && mine !== undefined && BigInt(seen) < mine) stale += 1;
    } else if (phase === 'end') running.delete(key);
    else if (rv) {
      applies += 1;
      lastWritten.set(key, BigInt(rv));
    }
  };
  const operator = mirrorOperator({ namespace: ns, kubeConfig: cp.kubeConfig, observe });
  const stop = new AbortController();
  const done = operator.run({ signal: stop.signal });
  const t0 = Date.now();
  await until('the initial 1,000 mirrored', async () => (await converged(ns)).ok, 120_000);
  const initialMs = Date.now() - t0;
  const initial = { reconciles, applies };

  // Bursts: 300 ConfigMaps changed 5 times each; the apiserver restarts and etcd compacts in the middle.
  let changes = 0;
  const bursts = many(300, 16, async (i) => {
    for (let v = 1; v <= 5; v++) {
      for (;;) {
        try {
          await core.patchNamespacedConfigMap({
            namespace: ns,
            name: `cm-${i}`,
            body: [{ op: 'replace', path: '/data/v', value: String(v) }],
          });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200)); // the apiserver is restarting
        }
      }
      changes += 1;
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  await cp.restartApiserver();
  await cp.compact(await cp.etcdRevision());
  await bursts;
  await until('every change mirrored', async () => (await converged(ns)).ok, 120_000);
  const burst = { reconciles: reconciles - initial.reconciles, applies: applies - initial.applies };

  // Deletions: the finalizer removes each Secret, then the ConfigMap goes.
  await many(50, 16, (i) => core.deleteNamespacedConfigMap({ namespace: ns, name: `cm-${i}` }));
  await until(
    '50 deleted with their Secrets',
    async () => {
      const cms = (await core.listNamespacedConfigMap({ namespace: ns })).items.length;
      return cms === N - 50 && (await converged(ns)).ok;
    },
    60_000,
  );
  const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.reason === 'Mirrored');
  stop.abort();
  await done;

  console.log(
    `mirror operator: initial ${N} in ${initialMs} ms (${initial.reconciles} reconciles, ${initial.applies} applies); ` +
      `${changes} changes in bursts through a restart and a compaction → ${burst.reconciles} reconciles, ${burst.applies} applies; ` +
      `overlaps ${overlaps}, stale reads ${stale}, cache waits ${operator.stats.cacheWaits}, server reads ${operator.stats.serverReads}, ` +
      `Mirrored events ${events.length}`,
  );
  expect(overlaps).toBe(0);
  expect(stale).toBe(0);
  expect(changes).toBe(1500);
  expect(burst.applies).toBeLessThan(changes); // deduplicated: fewer mirrorings than changes
  expect(events.length).toBeGreaterThan(0);
  expect(running.size).toBe(0);
}, 300_000);
