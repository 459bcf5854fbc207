// InformerFactory against the in-process SimulatedApiServer on a manual clock: one watch per
// (kind, namespace, selectors, metadataOnly), late subscribers, lagging subscribers, the grace period.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, InformerFactory, isMarker, type WatchEvent, type WatchMarker } from '../src/index.ts';

type Item = WatchEvent<ConfigMap> | WatchMarker;
const line = (e: Item) => (isMarker(e) ? e.type : `${e.type}${e.synthetic ? '*' : ''} ${e.object.metadata?.name}`);

function setup(options: { graceMs?: number; bufferSize?: number } = {}) {
  const clock = new ManualClock();
  const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' }, data: { v: '1' } });
  sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' }, data: { v: '1' } });
  const informers = new InformerFactory({ transport: sim, clock, ...options });
  return { clock, sim, informers, watches: () => sim.requests.filter((r) => r.kind === 'watch').length };
}

/** Pulls a stream in the background; `settle()` lets everything ready arrive. */
class Sub {
  readonly items: Item[] = [];
  readonly done: Promise<unknown>;
  constructor(stream: AsyncIterable<Item>) {
    this.done = (async () => {
      for await (const e of stream) this.items.push(e);
    })().catch((e: unknown) => e);
  }
  get lines(): string[] {
    return this.items.map(line);
  }
}
const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await turn();
};
const within = <T>(p: Promise<T>, ms = 100): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled in ${ms} ms`)), ms))]);

describe('InformerFactory (simulated server)', () => {
  it('shares one watch between stores and streams of the same (kind, namespace); another namespace is another watch', async () => {
    const { informers, watches, sim } = setup();
    const subs = Array.from({ length: 5 }, () => new Sub(informers.stream(ConfigMap, { namespace: 'ns', markers: true })));
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await store.synced();
    await settle();
    for (const s of subs) expect(s.lines).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED']);
    expect(watches()).toBe(1);
    sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    await settle();
    for (const s of subs) expect(s.lines.at(-1)).toBe('MODIFIED a');
    expect(store.get('ns', 'a')?.data?.v).toBe('2');
    const other = informers.store(ConfigMap, { namespace: 'other' });
    const labelled = informers.store(ConfigMap, { namespace: 'ns', labelSelector: 'x=y' });
    await other.synced();
    await labelled.synced();
    expect(watches()).toBe(3);
    expect(informers.watches().map((w) => w.holders)).toEqual([6, 1, 1]);
    informers.stop();
  });

  it('a late subscriber gets the store as synthetic ADDED, then SYNCED, then live changes — nothing twice', async () => {
    const { informers, sim } = setup();
    const first = new Sub(informers.stream(ConfigMap, { namespace: 'ns', markers: true }));
    await settle();
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    sim.delete('configmaps', 'ns/a');
    await settle();
    const late = new Sub(informers.stream(ConfigMap, { namespace: 'ns', markers: true }));
    const plain = new Sub(informers.stream(ConfigMap, { namespace: 'ns' }));
    await settle();
    sim.update('configmaps', 'ns/b', { data: { v: '2' } });
    await settle();
    expect(first.lines).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED', 'ADDED c', 'DELETED a', 'MODIFIED b']);
    expect(late.lines).toEqual(['ADDED* b', 'ADDED* c', 'SYNCED', 'MODIFIED b']);
    expect(plain.lines).toEqual(['ADDED* b', 'ADDED* c', 'MODIFIED b']);
    informers.stop();
  });

  it('a lagging subscriber does not hold the others back; past its bound it is resynced from the store', async () => {
    const { informers, sim } = setup({ bufferSize: 3 });
    const fast = new Sub(informers.stream(ConfigMap, { namespace: 'ns', markers: true, bufferSize: 100 }));
    const slow = informers.stream(ConfigMap, { namespace: 'ns', markers: true });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(line((await slow.next()).value as Item)); // the initial state
    expect(got).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED']);
    // The slow one stops pulling; ten changes pass.
    sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    sim.delete('configmaps', 'ns/b');
    for (let i = 0; i < 8; i++) sim.create('configmaps', { metadata: { name: `n${i}`, namespace: 'ns' } });
    await settle();
    expect(fast.lines).toHaveLength(3 + 10); // not held back
    const rest: Item[] = [];
    const pull = async () => {
      for (;;) {
        const r = await slow.next();
        rest.push(r.value as Item);
        if ((r.value as Item).type === 'SYNCED') return;
      }
    };
    await pull();
    expect(rest.map(line)).toEqual([
      'RESYNC',
      'MODIFIED* a',
      'DELETED* b',
      ...Array.from({ length: 8 }, (_, i) => `ADDED* n${i}`),
      'SYNCED',
    ]);
    expect((rest[0] as Extract<WatchMarker, { type: 'RESYNC' }>).reason.code).toBe('SUBSCRIBER_OVERFLOW');
    expect((rest[2] as WatchEvent<ConfigMap>).tombstone).toBe(true);
    // Live again afterwards.
    sim.update('configmaps', 'ns/n0', { data: { v: '2' } });
    expect(line((await slow.next()).value as Item)).toBe('MODIFIED n0');
    await slow.return(undefined);
    informers.stop();
  });

  it('the last subscriber leaving stops the watch after graceMs; a subscriber within the grace reuses it', async () => {
    const { informers, sim, clock, watches } = setup({ graceMs: 3000 });
    const ctl = new AbortController();
    const s = new Sub(informers.stream(ConfigMap, { namespace: 'ns', signal: ctl.signal }));
    await settle();
    expect(sim.openWatches).toBe(1);
    ctl.abort();
    await s.done;
    clock.advance(2999);
    await settle();
    expect(sim.openWatches).toBe(1);
    const store = informers.store(ConfigMap, { namespace: 'ns' }); // within the grace: the same watch
    clock.advance(10_000);
    await settle();
    expect(sim.openWatches).toBe(1);
    expect(watches()).toBe(1);
    store.release();
    clock.advance(3000);
    await settle();
    expect(sim.openWatches).toBe(0);
    expect(informers.watches()).toEqual([]);
    // A new subscriber starts a new watch.
    const again = informers.store(ConfigMap, { namespace: 'ns' });
    await again.synced();
    expect(watches()).toBe(2);
    informers.stop();
  });

  it('a watch that fails for good rejects its streams and synced()', async () => {
    const { informers, sim } = setup();
    sim.setModes({ errors: { status: 403, times: 10 } });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    const s = new Sub(informers.stream(ConfigMap, { namespace: 'ns' }));
    await expect(store.synced()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await s.done).toMatchObject({ code: 'FORBIDDEN' });
    expect(informers.watches()).toEqual([]);
  });

  it('synced() and ready() settle (reject ABORTED) after stop(), and after the last release() before the first sync (18.5)', async () => {
    const { informers, sim } = setup();
    sim.setModes({ stall: true }); // the initial state never comes
    const a = informers.store(ConfigMap, { namespace: 'ns' });
    const b = informers.store(ConfigMap, { namespace: 'ns' });
    const aSynced = a.synced();
    const aReady = a.ready();
    const bSynced = b.synced();
    await settle();
    a.release(); // b still holds the watch; a's waits are over
    await expect(within(aSynced)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(within(aReady)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(a.synced()).rejects.toMatchObject({ code: 'ABORTED' });
    informers.stop();
    await expect(within(bSynced)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(b.ready()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(informers.watches()).toEqual([]);
  });

  it('after stop() a synced store no longer follows the server: synced() rejects ABORTED, ready() stays resolved', async () => {
    const { informers } = setup();
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await store.synced();
    informers.stop();
    await expect(store.synced()).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(store.ready()).resolves.toBeUndefined();
    expect(store.get('ns', 'a')?.data?.v).toBe('1');
  });

  it('a store(); synced(); release() retry loop against a 403 keeps one request budget: ≤ 10 + 5·T requests in T s (18.7)', async () => {
    const clock = new ManualClock();
    // A client that retries without waiting gets 50 answers at one instant, then hangs (sim.runaway says when).
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, runawayLimit: 50 });
    const informers = new InformerFactory({ transport: sim, clock });
    sim.setModes({ errors: { status: 403 } });
    let running = true;
    let tries = 0;
    const loop = (async () => {
      while (running) {
        tries += 1;
        const store = informers.store(ConfigMap, { namespace: 'ns' });
        await store.synced().catch(() => undefined);
        store.release();
      }
    })();
    const T = 4;
    for (let ms = 0; ms < T * 1000; ms += 50) {
      clock.advance(50);
      await settle(10);
    }
    running = false;
    informers.stop();
    await Promise.race([loop, settle()]);
    expect(sim.runaway).toBeUndefined();
    expect(tries).toBeGreaterThan(5);
    expect(sim.requests.length).toBeLessThanOrEqual(10 + 5 * T);
    expect(sim.requests.length).toBeGreaterThanOrEqual(10);
  });

  it('a request budget outlives its watch while it matters, and is dropped once its bucket is full again', async () => {
    const { informers, sim, clock } = setup();
    sim.setModes({ errors: { status: 403, times: 3 } });
    for (let i = 0; i < 3; i++) {
      const store = informers.store(ConfigMap, { namespace: 'ns' });
      await store.synced().catch(() => undefined);
      store.release();
    }
    // Re-created at once: the same budget (the watcher's request count goes on).
    const again = informers.store(ConfigMap, { namespace: 'ns' });
    await again.synced();
    expect(informers.watches()[0]?.health.requests).toBeGreaterThan(3);
    again.release();
    // Idle long enough for its bucket to be full and its backoff forgotten: a new watch starts a new budget.
    clock.advance(3000 + 120_000);
    await settle();
    expect(informers.watches()).toEqual([]);
    const later = informers.store(ConfigMap, { namespace: 'ns' });
    await later.synced();
    expect(informers.watches()[0]?.health.requests).toBeLessThanOrEqual(2);
    informers.stop();
  });

  it('a throwing index function is contained: its index reports INDEX_FUNCTION_FAILED, the others keep working (18.8a)', async () => {
    const { informers, sim } = setup();
    const bad = informers.store(ConfigMap, { namespace: 'ns' });
    const good = informers.store(ConfigMap, { namespace: 'ns' });
    const s = new Sub(informers.stream(ConfigMap, { namespace: 'ns', markers: true }));
    await good.synced();
    good.addIndex('byV', (cm) => [cm.data?.v ?? '']);
    bad.addIndex('broken', (cm) => [Object.keys(cm.data as object)[0] as string]); // a TypeError on an object without data
    expect(bad.indexValues('broken')).toEqual(['v']);
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    sim.update('configmaps', 'ns/b', { data: { v: '3' } });
    await settle();
    const failed = expect.objectContaining({
      name: 'KwatchError',
      code: 'INDEX_FUNCTION_FAILED',
      retryable: false,
      cause: expect.any(TypeError), // the function's own error
    });
    expect(() => bad.byIndex('broken', 'anything')).toThrow(failed);
    expect(() => bad.indexValues('broken')).toThrow(failed);
    await expect(good.synced()).resolves.toBeUndefined();
    expect(good.byIndex('byV', '3').map((c) => c.metadata?.name)).toEqual(['b']);
    expect(s.lines.slice(-2)).toEqual(['ADDED c', 'MODIFIED b']);
    sim.update('configmaps', 'ns/a', { data: { v: '3' } });
    await settle();
    expect(s.lines.at(-1)).toBe('MODIFIED a');
    expect(good.byIndex('byV', '3').map((c) => c.metadata?.name)).toEqual(['b', 'a']);
    expect(good.byIndex('byV', '').map((c) => c.metadata?.name)).toEqual(['c']);
    informers.stop();
    expect(await s.done).toBeUndefined();
  });
});
