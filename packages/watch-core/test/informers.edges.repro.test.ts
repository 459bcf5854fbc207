// Deterministic reproductions of the bugs informers.edges.property.test.ts found that were not among issue 18's
// defects (defects18.test.ts), each through the public API, each shrunk from the property's counterexample.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, errorFor, InformerFactory, Store, type StoreChange, WatchEvent } from '../src/index.ts';

async function settle(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** `TYPE name uid@rv` of a store change, `(old uid@rv)` for MODIFIED and DELETED. */
const show = (c: StoreChange<ConfigMap>): string => {
  const at = (o: ConfigMap | undefined) => `${o?.metadata?.uid}@${o?.metadata?.resourceVersion}`;
  return `${c.type} ${c.object.metadata?.name} ${at(c.object)}${c.old ? ` (old ${at(c.old)})` : ''}`;
};

const configMap = (name: string, uid: string, rv: number): ConfigMap =>
  ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'ns', uid, resourceVersion: String(rv) },
  }) as ConfigMap;

/** The changes an iteration has ready now (it never waits for more). */
async function ready(events: AsyncGenerator<StoreChange<ConfigMap>, void, undefined>, max = 10): Promise<string[]> {
  const got: string[] = [];
  for (let i = 0; i < max; i++) {
    let r: IteratorResult<StoreChange<ConfigMap>, void> | undefined;
    const next = events.next().then((x) => (r = x));
    await settle();
    if (!r) {
      void events.return(undefined);
      await next;
      break;
    }
    if (r.done) break;
    got.push(show(r.value));
  }
  return got;
}

describe('bugs found by the informer edges property', () => {
  // Found on the informer layer as it was being fixed (uncommitted, after 2b0f8db; fixed there before it was
  // committed): a resync that finds an object recreated (new uid) gives store.events() DELETED then ADDED, both queued
  // as if the iteration still held the old object after the DELETED. When the iteration then falls behind its queue
  // bound, its catch-up compares the store with the old object again: DELETED a second time (a was not held), then
  // ADDED. Property counterexample (seed 3, put back: run 8, shrunk to 15 actions): burst a, b; closeAtOnce with the
  // watches closed; recreate a; compact; events({ bufferSize: 2 }) pulled once; advance 3 s (the resync: it takes
  // DELETED a); burst a, c; … → `e3(all,q2): DELETED ns/a 001@2, which it does not hold`.
  it('Store: after a resync reported a recreate as DELETED then ADDED, an overflow catch-up does not DELETE it again', async () => {
    const store = new Store<ConfigMap>();
    store.apply(new WatchEvent('ADDED', configMap('a', 'uid-1', 2)));
    store.apply({ type: 'SYNCED', initial: true, resourceVersion: '2' });
    const events = store.events({ bufferSize: 2 });
    const first = events.next(); // waiting, as a `for await` loop is
    // 410: the resync finds `a` deleted and created again (a tombstone, then the new object).
    store.apply({ type: 'RESYNC', reason: errorFor('GONE', 'resync') });
    store.apply(new WatchEvent('DELETED', configMap('a', 'uid-1', 2), true));
    store.apply(new WatchEvent('ADDED', configMap('a', 'uid-2', 5), true));
    store.apply({ type: 'SYNCED', initial: false, resourceVersion: '5' });
    const taken = [show((await first).value as StoreChange<ConfigMap>)];
    expect(taken).toEqual(['DELETED a uid-1@2 (old uid-1@2)']); // it holds nothing for `a` now
    // Two more changes while it does not pull: three queued, past its bound of 2.
    store.apply(new WatchEvent('MODIFIED', configMap('a', 'uid-2', 6)));
    store.apply(new WatchEvent('ADDED', configMap('c', 'uid-3', 7)));
    taken.push(...(await ready(events)));
    expect(taken).toEqual(['DELETED a uid-1@2 (old uid-1@2)', 'ADDED a uid-2@6', 'ADDED c uid-3@7']);
  });

  it('InformerFactory store().events(): the same through a shared watch that resyncs after a compaction', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
    const informers = new InformerFactory({ transport: sim, clock, graceMs: 0 });
    try {
      const store = informers.store(ConfigMap, { namespace: 'ns' });
      await settle();
      const a = sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
      await settle();
      expect(store.get('ns', 'a')?.metadata?.uid).toBe(a.metadata.uid);
      sim.compact();
      sim.expireWatches(); // the shared watch resyncs (after its backoff)
      const events = store.events({ bufferSize: 2 });
      const first = events.next();
      sim.delete('configmaps', 'ns/a');
      const a2 = sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
      for (let i = 0; i < 20 && store.get('ns', 'a')?.metadata?.uid !== a2.metadata.uid; i++) {
        clock.advance(200);
        await settle();
      }
      const taken = [show((await first).value as StoreChange<ConfigMap>)];
      const old = `${a.metadata.uid}@${a.metadata.resourceVersion}`;
      expect(taken).toEqual([`DELETED a ${old} (old ${old})`]);
      const a3 = sim.update('configmaps', 'ns/a', { data: { v: '2' } });
      const c = sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
      await settle();
      taken.push(...(await ready(events)));
      expect(taken).toEqual([
        `DELETED a ${old} (old ${old})`,
        `ADDED a ${a3.metadata.uid}@${a3.metadata.resourceVersion}`,
        `ADDED c ${c.metadata.uid}@${c.metadata.resourceVersion}`,
      ]);
      store.release();
    } finally {
      informers.stop();
    }
  });
});
