// Read-your-writes on the real control plane: with the cache's watch delayed, a reconcile never acts on state from before its own write.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane, startFaultProxy } from '@kwatch/testenv';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Controller } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;

beforeAll(async () => {
  proxy = await startFaultProxy(cp);
  proxy.delay(250); // the controller's watch sees every change 250 ms late: a busy apiserver, a slow network
});
afterAll(async () => {
  await proxy.stop();
});

/**
 * Runs a counting controller for `ms` while another writer keeps changing the objects (so keys are re-queued while
 * they run): each reconcile reads `count` from the cache and writes `count + 1`. A reconcile that sees a count below
 * what the key's previous reconcile wrote acted on the state from before its own write.
 */
async function counting(readYourWrites: boolean, ms: number) {
  const ns = `ryw-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const names = ['a', 'b', 'c', 'd'];
  for (const name of names)
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { ext: '0' } } });
  const lastWritten = new Map<string, number>();
  let stale = 0;
  let reconciles = 0;
  const controller = new Controller(ConfigMap, {
    kubeConfig: proxy.kubeConfig(),
    namespace: ns,
    concurrency: 2,
    readYourWrites,
    reconcile: async ({ key, name, object, client, signal }) => {
      if (!object) return;
      reconciles += 1;
      const seen = Number(object.metadata?.annotations?.count ?? 0);
      if (seen < (lastWritten.get(key) ?? 0)) stale += 1;
      await client.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
        body: { metadata: { annotations: { count: String(seen + 1) } } },
        signal,
      });
      lastWritten.set(key, seen + 1);
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  const until = Date.now() + ms;
  let ext = 0;
  while (Date.now() < until) {
    ext += 1;
    await Promise.all(
      names.map((name) =>
        core.patchNamespacedConfigMap({ namespace: ns, name, body: [{ op: 'replace', path: '/data/ext', value: String(ext) }] }),
      ),
    );
    await new Promise((r) => setTimeout(r, 40));
  }
  stop.abort();
  await done;
  return { stale, reconciles, stats: controller.stats };
}

it('with read-your-writes, no reconcile reads the cache from before its own write; without, some do', async () => {
  const withRyw = await counting(true, 3000);
  const without = await counting(false, 3000);
  console.log(
    `read-your-writes: ${withRyw.stale} stale of ${withRyw.reconciles} reconciles (${withRyw.stats.cacheWaits} waited, ${withRyw.stats.serverReads} read from the server); without: ${without.stale} stale of ${without.reconciles}`,
  );
  expect(withRyw.reconciles).toBeGreaterThan(10);
  expect(withRyw.stats.cacheWaits).toBeGreaterThan(0); // the rule was exercised…
  expect(withRyw.stale).toBe(0); // …and held
  expect(without.stale).toBeGreaterThan(0); // what it prevents, on the same workload
}, 60_000);
