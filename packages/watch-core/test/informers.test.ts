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
});
