// A controller through a relist after 410 Gone on the real control plane: objects created and changed while its watch
// was cut, then compacted away, are each reconciled with their new state — not read from the store before the
// resync was applied (which would show a new object as absent and a changed one as it was, with no key left queued).
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane, startFaultProxy } from '@kwatch/testenv';
import { expect, inject, it } from 'vitest';
import { Controller } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('after a 410 relist, every object created or changed meanwhile is reconciled with its new state', async () => {
  const proxy = await startFaultProxy(cp);
  const ns = `resync-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (let i = 0; i < 20; i++)
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `old-${i}` }, data: { v: '0' } } });
  // Per key, what its last reconcile saw: the data's v, or 'absent'.
  const seen = new Map<string, string>();
  const controller = new Controller(ConfigMap, {
    kubeConfig: proxy.kubeConfig(),
    namespace: ns,
    concurrency: 4,
    reconcile: ({ name, object }) => {
      seen.set(name, object?.data?.v ?? 'absent');
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  try {
    await until('the initial 20 reconciled', () => seen.size === 20, 20_000);
    // The watch hears nothing more; meanwhile 30 objects are created and 10 changed, and etcd compacts the history.
    proxy.stall();
    for (let i = 0; i < 30; i++)
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `new-${i}` }, data: { v: '1' } } });
    for (let i = 0; i < 10; i++)
      await core.patchNamespacedConfigMap({
        namespace: ns,
        name: `old-${i}`,
        body: [{ op: 'replace', path: '/data/v', value: '1' }],
      });
    await cp.compact(await cp.etcdRevision());
    proxy.cut(); // the watch resumes from a compacted resourceVersion: 410, a relist
    const want = (name: string) => (name.startsWith('new-') || Number(name.slice(4)) < 10 ? '1' : '0');
    const right = () =>
      [...Array(30).keys()]
        .map((i) => `new-${i}`)
        .concat([...Array(20).keys()].map((i) => `old-${i}`))
        .every((n) => seen.get(n) === want(n));
    await until('every new and changed object reconciled with its new state', right, 30_000).catch((error) => {
      const wrong = [...seen].filter(([n, v]) => v !== want(n));
      throw new Error(
        `${(error as Error).message}: ${wrong.length} keys last saw the wrong state: ${JSON.stringify(wrong.slice(0, 8))}`,
      );
    });
    expect([...seen.values()].filter((v) => v === 'absent')).toEqual([]);
  } finally {
    stop.abort();
    await done;
    await proxy.stop();
  }
}, 60_000);
