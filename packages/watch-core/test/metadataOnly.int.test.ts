/**
 * Metadata-only watches (`metadataOnly: true`) on the real control plane: every way the initial
 * state arrives (LIST, WatchList), live changes, a 410 resync, a multiplexer and a Store — the
 * objects carry metadata and the watched kind, never data.
 */
import { ConfigMap } from '@kwatch/models/v1';
import { type FaultProxy, startFaultProxy } from '@kwatch/testenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMarker, MultiplexingWatcher, type PartialObjectMetadata, Store, Watcher } from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(cp);
});
afterAll(async () => {
  await proxy.stop();
});

/** The object is metadata of a ConfigMap: labels kept, no data. */
function expectMetadataOnly(o: unknown): void {
  const object = o as PartialObjectMetadata & { data?: unknown };
  expect(object.kind).toBe('ConfigMap');
  expect(object.apiVersion).toBe('v1');
  expect(object.metadata.name).toBeTruthy();
  expect(object.metadata.resourceVersion).toBeTruthy();
  expect(object.metadata.labels).toEqual({ app: 'meta' });
  expect(object.data).toBeUndefined();
  expect(object).not.toBeInstanceOf(ConfigMap);
}

async function labelled(ns: string, names: string[]): Promise<void> {
  for (const name of names) {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name, labels: { app: 'meta' } }, data: { big: 'x'.repeat(1000) } },
    });
  }
}

describe('metadata-only watches on the real control plane', () => {
  for (const watchList of [false, true]) {
    it(`initial state by ${watchList ? 'WatchList' : 'LIST (paginated)'}, then live changes: metadata only`, async () => {
      const ns = await freshNamespace('meta');
      await labelled(ns, ['a', 'b', 'c']);
      const relisted: string[] = [];
      const watcher = new Watcher(ConfigMap, {
        namespace: ns,
        kubeConfig: cp.kubeConfig,
        metadataOnly: true,
        watchList,
        pageSize: 2,
        hooks: { relisted: (i) => relisted.push(i.via) },
      });
      const c = new Collector(watcher.stream({ markers: true }));
      await c.until((x) => x.lines.includes('SYNCED'));
      expect(relisted).toEqual([watchList ? 'watch-list' : 'list']);
      await labelled(ns, ['d']);
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'a' });
      await c.until((x) => x.lines.includes('DELETED a'));
      expect(c.lines).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'SYNCED', 'ADDED d', 'DELETED a']);
      for (const e of c.items) if (!isMarker(e)) expectMetadataOnly(e.object);
      watcher.stop();
      await c.done;
    });
  }

  it('unmanaged streams too', async () => {
    const ns = await freshNamespace('meta');
    await labelled(ns, ['a']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig: cp.kubeConfig, metadataOnly: true });
    const c = new Collector(watcher.stream({ manageResourceVersion: false }));
    await c.until((x) => x.lines.includes('ADDED a'));
    expectMetadataOnly(c.items[0]?.object);
    watcher.stop();
    await c.done;
  });

  it('a 410 resync relists metadata only and repeats nothing unchanged', async () => {
    const ns = await freshNamespace('meta');
    await labelled(ns, ['a', 'b']);
    const watcher = new Watcher(ConfigMap, {
      namespace: ns,
      kubeConfig: proxy.kubeConfig(),
      metadataOnly: true,
      watchList: false,
      backoff: { initialMs: 100, maxMs: 200 },
    });
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('SYNCED'));
    // The watch after the LIST must be open before the cut (cut too early, it cuts nothing and no 410 follows).
    const deadline = Date.now() + 10_000;
    while (
      !proxy.requests.some((u) => u.includes(`/namespaces/${ns}/configmaps?`) && u.includes('watch=')) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    proxy.failNext({ status: 410, match: `/namespaces/${ns}/configmaps?` });
    proxy.cut();
    await c.until((x) => x.count('SYNCED') === 2, 15_000, 'the resync');
    await labelled(ns, ['c']);
    await c.until((x) => x.lines.includes('ADDED c'));
    expect(c.lines).toEqual(['ADDED a', 'ADDED b', 'SYNCED', 'RESYNC', 'SYNCED', 'ADDED c']);
    for (const e of c.items) if (!isMarker(e)) expectMetadataOnly(e.object);
    expect(watcher.health().relists).toBe(1);
    watcher.stop();
    await c.done;
  });

  it('multiplexed beside a full watcher, and into a Store', async () => {
    const ns = await freshNamespace('meta');
    await labelled(ns, ['a']);
    await createConfigMaps(ns, ['full'], { v: '1' });
    const meta = new Watcher(ConfigMap, {
      namespace: ns,
      kubeConfig: cp.kubeConfig,
      metadataOnly: true,
      labelSelector: 'app=meta',
    });
    const full = new Watcher(ConfigMap, { namespace: ns, kubeConfig: cp.kubeConfig, fieldSelector: 'metadata.name=full' });
    const mux = new MultiplexingWatcher({ watchers: [meta] });
    const c = new Collector(mux.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    expectMetadataOnly(c.items[0]?.object);
    mux.stop();
    await c.done;
    const mux2 = new MultiplexingWatcher({ watchers: [full] });
    const c2 = new Collector(mux2.stream());
    await c2.until((x) => x.lines.includes('ADDED full'));
    expect(c2.items[0]?.object).toBeInstanceOf(ConfigMap);
    mux2.stop();
    await c2.done;

    const store = new Store<PartialObjectMetadata>();
    const storeWatcher = new Watcher(ConfigMap, {
      namespace: ns,
      kubeConfig: cp.kubeConfig,
      metadataOnly: true,
      labelSelector: 'app=meta',
    });
    const feeding = store.consume(storeWatcher.stream({ markers: true }));
    await store.ready();
    expect(store.list().map((o) => o.metadata.name)).toEqual(['a']);
    expectMetadataOnly(store.get(ns, 'a'));
    storeWatcher.stop();
    await feeding;
  });
});
