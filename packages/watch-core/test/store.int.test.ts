import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { Store, Watcher, waitUntil, watchSingle } from '../src/index.ts';
import { core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const kubeConfig = cp.kubeConfig;

describe('Store and helpers on the real control plane', () => {
  it('a Store fed by a watcher mirrors the server, through a 410 resync', async () => {
    const ns = await freshNamespace('store');
    await createConfigMaps(ns, ['a', 'b']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig });
    const store = new Store<ConfigMap>();
    const feeding = store.consume(watcher.stream({ markers: true }));
    await store.ready();
    expect(
      store
        .list()
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(['a', 'b']);
    watcher.stop();
    await feeding;
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'a' });
    await createConfigMaps(ns, ['c', 'd']);
    await cp.compact(await cp.etcdRevision());
    const again = store.consume(watcher.stream({ markers: true }));
    const deadline = Date.now() + 15_000;
    while (store.list().length !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const server = await core.listNamespacedConfigMap({ namespace: ns });
    expect(
      store
        .list()
        .map((c) => c.metadata?.name)
        .sort(),
    ).toEqual(server.items.map((c) => c.metadata?.name).sort());
    expect(store.get(ns, 'c')).toBeInstanceOf(ConfigMap);
    watcher.stop();
    await again;
  });

  it('watchSingle sees only the named object', async () => {
    const ns = await freshNamespace('single');
    await createConfigMaps(ns, ['other', 'target']);
    const seen: string[] = [];
    for await (const e of watchSingle(ConfigMap, 'target', { namespace: ns, kubeConfig })) {
      seen.push(`${e.type} ${e.object.metadata?.name}`);
      break;
    }
    expect(seen).toEqual(['ADDED target']);
  });

  it('waitUntil resolves on the first match, existing or future, and times out with TIMEOUT', async () => {
    const ns = await freshNamespace('wait');
    const waiting = waitUntil(ConfigMap, (c) => c.data?.ready === 'yes', { namespace: ns, kubeConfig, timeoutMs: 15_000 });
    await createConfigMaps(ns, ['x'], { ready: 'no' });
    await createConfigMaps(ns, ['y'], { ready: 'yes' });
    expect((await waiting).metadata?.name).toBe('y');
    await expect(waitUntil(ConfigMap, () => false, { namespace: ns, kubeConfig, timeoutMs: 300 })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
  });
});
