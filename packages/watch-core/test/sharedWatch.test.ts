// A shared watch's streams (InformerFactory.stream): leaving at any point frees the holder, and the first SYNCED a
// subscriber gets is the initial one — against the simulated server on a manual clock.
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
  const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000, ...options });
  const holders = () => informers.watches().reduce((n, w) => n + w.holders, 0);
  return { clock, sim, informers, holders };
}
const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await turn();
};
const within = <T>(p: Promise<T>, ms = 100): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled in ${ms} ms`)), ms))]);
const DONE = { done: true, value: undefined };

describe('SharedWatch streams: leaving', () => {
  it('return() before the first pull lets go of the holder; the watch closes after graceMs (18.3)', async () => {
    const { informers, sim, clock, holders } = setup();
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await store.synced();
    const s = informers.stream(ConfigMap, { namespace: 'ns' });
    expect(holders()).toBe(2);
    expect(await within(s.return())).toEqual(DONE);
    expect(holders()).toBe(1);
    expect(await s.next()).toEqual(DONE);
    {
      await using _unpulled = informers.stream(ConfigMap, { namespace: 'ns', markers: true });
      expect(holders()).toBe(2);
    }
    expect(holders()).toBe(1);
    store.release();
    clock.advance(1000);
    await settle();
    expect(sim.openWatches).toBe(0);
    expect(informers.watches()).toEqual([]);
  });

  it('a signal aborted before the first pull lets go at once, even never pulled', async () => {
    const { informers, holders } = setup();
    const ctl = new AbortController();
    const s = informers.stream(ConfigMap, { namespace: 'ns', signal: ctl.signal });
    expect(holders()).toBe(1);
    ctl.abort();
    expect(holders()).toBe(0);
    expect(await s.next()).toEqual(DONE);
    const pre = AbortSignal.abort();
    informers.stream(ConfigMap, { namespace: 'ns', signal: pre });
    expect(holders()).toBe(0);
    informers.stop();
  });

  it('return() while a next() is pending settles it done and lets go within 100 ms (18.4)', async () => {
    const { informers, sim, clock, holders } = setup();
    const s = informers.stream(ConfigMap, { namespace: 'ns', markers: true });
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(line((await s.next()).value as Item));
    expect(got).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED']);
    const pending = s.next(); // nothing changes: it waits
    await settle();
    const returned = s.return();
    expect(await within(pending)).toEqual(DONE);
    expect(await within(returned)).toEqual(DONE);
    expect(holders()).toBe(0);
    clock.advance(1000);
    await settle();
    expect(sim.openWatches).toBe(0);
  });

  it('an abort while a next() is pending settles it done and lets go', async () => {
    const { informers, holders } = setup();
    const ctl = new AbortController();
    const s = informers.stream(ConfigMap, { namespace: 'ns', signal: ctl.signal });
    await s.next();
    await s.next();
    const pending = s.next();
    await settle();
    ctl.abort();
    expect(await within(pending)).toEqual(DONE);
    await settle();
    expect(holders()).toBe(0);
    informers.stop();
  });

  it('a Promise.race timeout, then return(): the watch is let go (what iterator helpers do)', async () => {
    const { informers, holders } = setup();
    const s = informers.stream(ConfigMap, { namespace: 'ns' });
    await s.next();
    await s.next();
    const timedOut = await Promise.race([s.next().then(() => 'item'), settle(5).then(() => 'timeout')]);
    expect(timedOut).toBe('timeout');
    await within(s.return());
    expect(holders()).toBe(0);
    informers.stop();
  });
});

describe('SharedWatch streams: the initial SYNCED', () => {
  it('a subscriber that overflows during the initial sync still gets SYNCED with initial: true (18.6)', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, chunking: { eventsPerChunk: 1 } });
    for (let i = 0; i < 10; i++) sim.create('configmaps', { metadata: { name: `c${i}`, namespace: 'ns' } });
    const informers = new InformerFactory({ transport: sim, clock });
    // Joins before the initial state is in, pulls once, then stops pulling: its queue of 2 overflows.
    const slow = informers.stream(ConfigMap, { namespace: 'ns', markers: true, bufferSize: 2 });
    const first = await slow.next();
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await store.synced();
    await settle();
    const items: Item[] = [first.value as Item];
    for (;;) {
      const r = await within(slow.next(), 1000);
      items.push(r.value as Item);
      if ((r.value as Item).type === 'SYNCED') break;
    }
    const synced = items.filter((i) => i.type === 'SYNCED') as Array<Extract<WatchMarker, { type: 'SYNCED' }>>;
    expect(synced).toHaveLength(1);
    expect(synced[0]?.initial).toBe(true);
    // Its view before SYNCED is the whole initial state, each object once; no RESYNC before it.
    expect(items.some((i) => i.type === 'RESYNC')).toBe(false);
    const names = items.filter((i) => !isMarker(i)).map((i) => (i as WatchEvent<ConfigMap>).object.metadata?.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`).sort());
    // Later overflows are resyncs as before: RESYNC (SUBSCRIBER_OVERFLOW), the difference, SYNCED (initial: false).
    for (let i = 0; i < 5; i++) sim.update('configmaps', `ns/c${i}`, { data: { v: '2' } });
    await settle();
    const later: Item[] = [];
    for (;;) {
      const r = await within(slow.next(), 1000);
      later.push(r.value as Item);
      if ((r.value as Item).type === 'SYNCED') break;
    }
    expect(later[0]?.type).toBe('RESYNC');
    expect(later.at(-1)).toMatchObject({ type: 'SYNCED', initial: false });
    await slow.return();
    informers.stop();
  });
});
