// Sharded watchers on the real control plane, with ShardedListAndWatch on (the server filters) and off (the client
// does): each object to exactly one shard; a changed shard syncs its new ranges (RESYNC RESHARDED … SYNCED), lets go of
// what it lost by tombstones, and an empty shard idles.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { startControlPlane } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import {
  evenRanges,
  HASH_SPACE,
  type HashRange,
  inRanges,
  isMarker,
  KubeClient,
  readKubeconfig,
  type Shard,
  Watcher,
  type WatchTransport,
} from '../src/index.ts';
import { Collector, cp } from './helpers.ts';

/** A shard a test moves by hand. */
class MovableShard implements Shard {
  #ranges: readonly HashRange[];
  readonly #listeners = new Set<() => void>();
  constructor(ranges: readonly HashRange[]) {
    this.#ranges = ranges;
  }
  ranges(): readonly HashRange[] {
    return this.#ranges;
  }
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  move(ranges: readonly HashRange[]): void {
    this.#ranges = ranges;
    for (const l of this.#listeners) l();
  }
}

/** A transport that counts the objects the server sent in LIST pages. */
function counting(client: KubeClient): { transport: WatchTransport; listed: () => number; queries: string[] } {
  let listed = 0;
  const queries: string[] = [];
  return {
    listed: () => listed,
    queries,
    transport: {
      getJson: async (path, query, signal, accept) => {
        queries.push(query.toString());
        const page = (await client.getJson(path, query, signal, accept)) as { items?: unknown[] };
        listed += page.items?.length ?? 0;
        return page;
      },
      openStream: (path, query, signal, accept) => {
        queries.push(query.toString());
        return client.openStream(path, query, signal, accept);
      },
    },
  };
}

type Item = Collector['items'][number];
const objects = (items: Item[], type?: string) =>
  items.filter((e) => !isMarker(e) && (type === undefined || e.type === type)) as Array<
    Exclude<Item, { type: 'SYNCED' | 'RESYNC' }>
  >;
const uidsOf = (items: Item[], type?: string) => objects(items, type).map((e) => e.object.metadata?.uid as string);
const markers = (c: Collector) => c.items.filter(isMarker).map((m) => (m.type === 'RESYNC' ? `RESYNC ${m.reason.code}` : m.type));

async function scenario(kubeConfig: KubeConfig, kubeconfigPath: string, serverFilters: boolean): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = `shard-${serverFilters ? 'on' : 'off'}-${Date.now().toString(36)}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const uids: string[] = [];
  for (let i = 0; i < 120; i++) {
    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` }, data: { v: '1' } } });
    uids.push(cm.metadata?.uid as string);
  }
  const [low, high] = evenRanges(2) as [HashRange, HashRange];
  const client = new KubeClient({ kubeConfig: readKubeconfig({ path: kubeconfigPath }) });
  const a = counting(client);
  const b = counting(client);
  const shardA = new MovableShard([low]);
  const wa = new Watcher(ConfigMap, { namespace, shard: shardA, transport: a.transport, watchList: false });
  const wb = new Watcher(ConfigMap, { namespace, shard: [high], transport: b.transport, watchList: false });
  const ca = new Collector(wa.stream({ markers: true }));
  const cb = new Collector(wb.stream({ markers: true }));
  try {
    await ca.until((c) => markers(c).includes('SYNCED'), 20_000, 'A synced');
    await cb.until((c) => markers(c).includes('SYNCED'), 20_000, 'B synced');
    const inLow = uids.filter((u) => inRanges(u, [low]));
    const inHigh = uids.filter((u) => inRanges(u, [high]));
    expect(inLow.length + inHigh.length).toBe(120);
    expect(uidsOf(ca.items, 'ADDED').sort()).toEqual([...inLow].sort());
    expect(uidsOf(cb.items, 'ADDED').sort()).toEqual([...inHigh].sort());
    // Every request carried the shard's selector; the server sent only the shard's objects when it honours it.
    expect(a.queries.every((q) => q.includes('shardSelector='))).toBe(true);
    expect(a.listed()).toBe(serverFilters ? inLow.length : 120);
    expect(wa.health().shardFiltering).toBe(serverFilters ? 'server' : 'client');

    // Every object changed once: each change reaches exactly the shard that owns it.
    const before = [ca.items.length, cb.items.length];
    for (let i = 0; i < 120; i++) {
      await core.patchNamespacedConfigMap({ name: `cm-${i}`, namespace, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    }
    await ca.until((c) => objects(c.items.slice(before[0]), 'MODIFIED').length >= inLow.length, 20_000, 'A modified');
    await cb.until((c) => objects(c.items.slice(before[1]), 'MODIFIED').length >= inHigh.length, 20_000, 'B modified');
    expect(uidsOf(ca.items.slice(before[0]), 'MODIFIED').sort()).toEqual([...inLow].sort());
    expect(uidsOf(cb.items.slice(before[1]), 'MODIFIED').sort()).toEqual([...inHigh].sort());

    // A takes the whole space: a RESYNC (RESHARDED), the other half as synthetic ADDED, SYNCED.
    const mark = ca.items.length;
    shardA.move([{ start: 0n, end: HASH_SPACE }]);
    await ca.until((c) => markers(c).filter((m) => m === 'SYNCED').length >= 2, 20_000, 'A resynced');
    const whole = ca.items.slice(mark);
    expect(whole[0]).toMatchObject({ type: 'RESYNC', reason: { code: 'RESHARDED' } });
    expect(uidsOf(whole, 'ADDED').sort()).toEqual([...inHigh].sort());
    expect(objects(whole).every((e) => e.synthetic)).toBe(true);

    // A owns nothing: every object leaves as a tombstone, the sync ends, and the watcher idles without requests.
    const mark2 = ca.items.length;
    shardA.move([]);
    await ca.until((c) => markers(c).filter((m) => m === 'SYNCED').length >= 3, 20_000, 'A emptied');
    const emptied = ca.items.slice(mark2);
    expect(uidsOf(emptied, 'DELETED').sort()).toEqual([...uids].sort());
    expect(objects(emptied).every((e) => e.type === 'DELETED' && e.tombstone)).toBe(true);
    const requests = a.queries.length;
    await core.patchNamespacedConfigMap({ name: 'cm-0', namespace, body: [{ op: 'replace', path: '/data/v', value: '3' }] });
    await new Promise((r) => setTimeout(r, 500));
    expect(wa.health().state).toBe('idle');
    expect(a.queries.length).toBe(requests);
    expect(objects(ca.items.slice(mark2 + emptied.length))).toEqual([]);

    // Back to the low half: its objects come again (cm-0's new version included if it is there).
    const mark3 = ca.items.length;
    shardA.move([low]);
    await ca.until((c) => markers(c).filter((m) => m === 'SYNCED').length >= 4, 20_000, 'A back');
    expect(uidsOf(ca.items.slice(mark3), 'ADDED').sort()).toEqual([...inLow].sort());
    expect(ca.error).toBeUndefined();
    expect(cb.error).toBeUndefined();
  } finally {
    wa.stop();
    wb.stop();
    await Promise.all([ca.done, cb.done]);
  }
}

describe('sharded watchers', () => {
  it('without ShardedListAndWatch: the client filters; each object to one shard; reshards sync', async () => {
    await scenario(cp.kubeConfig, cp.kubeconfigPath, false);
  }, 90_000);

  it('with ShardedListAndWatch: the server filters; the same objects', async () => {
    await using gated = await startControlPlane({ featureGates: { ShardedListAndWatch: true } });
    await scenario(gated.kubeConfig, gated.kubeconfigPath, true);
  }, 120_000);
});
