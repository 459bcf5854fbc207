// InformerFactory on the real control plane, through the fault proxy that counts watch requests.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { type FaultProxy, startFaultProxy } from '@kwatch/testenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InformerFactory, isMarker, type WatchEvent, type WatchMarker } from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(cp);
});
afterAll(async () => {
  await proxy.stop();
});

type Item = WatchEvent<ConfigMap> | WatchMarker;
const watchRequests = (ns: string) =>
  proxy.requests.filter((u) => u.includes(`/namespaces/${ns}/configmaps`) && u.includes('watch=true'));
const line = (e: Item) => (isMarker(e) ? e.type : `${e.type} ${e.object.metadata?.name}`);

describe('InformerFactory against the real apiserver', () => {
  it('20 subscribers of one (kind, namespace) open ONE watch request; a late one gets the full state then changes, nothing twice', async () => {
    const ns = await freshNamespace('inf');
    await createConfigMaps(ns, ['a', 'b', 'c']);
    await using informers = new InformerFactory({ kubeConfig: proxy.kubeConfig(), graceMs: 500 });
    const subs = Array.from({ length: 20 }, () => new Collector(informers.stream(ConfigMap, { namespace: ns, markers: true })));
    for (const s of subs) await s.until((c) => c.lines.includes('SYNCED'));
    expect(watchRequests(ns)).toHaveLength(1);
    expect(proxy.requests.filter((u) => u.includes(`/namespaces/${ns}/configmaps`))).toHaveLength(1); // no LIST either (WatchList)
    await createConfigMaps(ns, ['d']);
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
    for (const s of subs) await s.until((c) => c.lines.includes('DELETED a'));
    const late = new Collector(informers.stream(ConfigMap, { namespace: ns, markers: true }));
    await late.until((c) => c.lines.includes('SYNCED'));
    await core.patchNamespacedConfigMap({
      name: 'b',
      namespace: ns,
      body: [{ op: 'replace', path: '/data', value: { v: '2' } }],
    });
    await late.until((c) => c.lines.includes('MODIFIED b'));
    await createConfigMaps(ns, ['e']);
    await late.until((c) => c.lines.includes('ADDED e'));
    expect(late.lines).toEqual(['ADDED b', 'ADDED c', 'ADDED d', 'SYNCED', 'MODIFIED b', 'ADDED e']);
    expect(late.items.slice(0, 3).every((e) => !isMarker(e) && e.synthetic)).toBe(true);
    for (const s of subs) {
      await s.until((c) => c.lines.includes('ADDED e'));
      expect(s.lines).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'SYNCED', 'ADDED d', 'DELETED a', 'MODIFIED b', 'ADDED e']);
    }
    expect(watchRequests(ns)).toHaveLength(1);
  });

  it('a stalled subscriber does not hold the others back, and is resynced from the store', async () => {
    const ns = await freshNamespace('inf');
    await createConfigMaps(ns, ['a', 'b']);
    await using informers = new InformerFactory({ kubeConfig: proxy.kubeConfig(), bufferSize: 5 });
    const others = Array.from(
      { length: 3 },
      () => new Collector(informers.stream(ConfigMap, { namespace: ns, bufferSize: 1000 })),
    );
    const stalled = informers.stream(ConfigMap, { namespace: ns, markers: true });
    const first: string[] = [];
    for (let i = 0; i < 3; i++) first.push(line((await stalled.next()).value as Item));
    expect(first).toEqual(['ADDED a', 'ADDED b', 'SYNCED']);
    // The stalled subscriber takes nothing while 20 objects are created, one changed and one deleted.
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const started = Date.now();
    await createConfigMaps(ns, names);
    await core.patchNamespacedConfigMap({
      name: 'a',
      namespace: ns,
      body: [{ op: 'replace', path: '/data', value: { v: '2' } }],
    });
    await core.deleteNamespacedConfigMap({ name: 'b', namespace: ns });
    for (const o of others) await o.until((c) => c.lines.includes('DELETED b'));
    const othersMs = Date.now() - started;
    for (const o of others)
      expect(o.lines).toEqual(['ADDED a', 'ADDED b', ...names.map((n) => `ADDED ${n}`), 'MODIFIED a', 'DELETED b']);
    // Now it pulls: RESYNC (SUBSCRIBER_OVERFLOW), the difference, SYNCED.
    const rest: Item[] = [];
    for (;;) {
      const { value } = await stalled.next();
      rest.push(value as Item);
      if ((value as Item).type === 'SYNCED') break;
    }
    expect(rest.map(line).sort()).toEqual(
      ['DELETED b', 'MODIFIED a', 'RESYNC', 'SYNCED', ...names.map((n) => `ADDED ${n}`)].sort(),
    );
    expect(rest[0]).toMatchObject({ type: 'RESYNC', reason: { code: 'SUBSCRIBER_OVERFLOW' } });
    expect(rest.every((e) => isMarker(e) || e.synthetic)).toBe(true);
    await createConfigMaps(ns, ['after']);
    expect(line((await stalled.next()).value as Item)).toBe('ADDED after');
    await stalled.return(undefined);
    expect(othersMs).toBeLessThan(15_000);
    expect(watchRequests(ns)).toHaveLength(1);
  });

  it('the last subscriber leaving stops the watch after graceMs (and not before)', async () => {
    const ns = await freshNamespace('inf');
    await createConfigMaps(ns, ['a']);
    const streams = async (n: number, ms = 5000) => {
      const deadline = Date.now() + ms;
      while (proxy.activeStreams !== n && Date.now() < deadline) await sleep(25);
      return proxy.activeStreams;
    };
    expect(await streams(0)).toBe(0); // the earlier tests' watches are closed
    const informers = new InformerFactory({ kubeConfig: proxy.kubeConfig(), graceMs: 1500 });
    const store = informers.store(ConfigMap, { namespace: ns });
    const ctl = new AbortController();
    const s = new Collector(informers.stream(ConfigMap, { namespace: ns, signal: ctl.signal }));
    await store.synced();
    await s.until((c) => c.lines.includes('ADDED a'));
    expect(informers.watches()).toHaveLength(1);
    expect(proxy.activeStreams).toBe(1); // one watch request for the store and the stream
    store.release();
    ctl.abort();
    await s.done;
    await sleep(1000);
    expect(informers.watches()).toHaveLength(1); // within the grace period
    expect(proxy.activeStreams).toBe(1);
    await sleep(1000);
    expect(informers.watches()).toHaveLength(0);
    expect(await streams(0)).toBe(0); // its watch request is closed
    expect(watchRequests(ns)).toHaveLength(1);
  });
});
