// Store.events(): leaving at any point unsubscribes, a failure for good ends it with the typed error, and a catch-up
// tells a delete-and-recreate as DELETED then ADDED — on a Store fed by hand and on the factory's shared stores.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiErrorFrom, InformerFactory, KwatchError, Store, WatchEvent } from '../src/index.ts';
import { Feed } from '../src/informers/feed.ts';

type Obj = { metadata: { name: string; namespace: string; uid: string; resourceVersion: string }; data?: { v: string } };
const obj = (name: string, rv: number, uid = `uid-${name}`, v = '1'): Obj => ({
  metadata: { name, namespace: 'ns', uid, resourceVersion: String(rv) },
  data: { v },
});
const ev = (type: 'ADDED' | 'MODIFIED' | 'DELETED', o: Obj, synthetic = false) => new WatchEvent(type, o, synthetic);
const synced = () => ({ type: 'SYNCED', initial: true, resourceVersion: undefined }) as const;
const within = <T>(p: Promise<T>, ms = 100): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled in ${ms} ms`)), ms))]);
const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await turn();
};
const DONE = { done: true, value: undefined };

/** Counts the changes pushed to any subscriber's queue: a subscriber that left gets none. */
function countPushes() {
  const spy = vi.spyOn(Feed.prototype, 'push');
  return () => spy.mock.calls.length;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Store.events(): leaving', () => {
  it('return() before the first pull unsubscribes (18.3)', async () => {
    const store = new Store<Obj>();
    store.apply(synced());
    const pushes = countPushes();
    const iterators = Array.from({ length: 100 }, () => store.events());
    store.apply(ev('ADDED', obj('a', 1)));
    expect(pushes()).toBe(100);
    for (const it of iterators) expect(await within(it.return())).toEqual(DONE);
    store.apply(ev('ADDED', obj('b', 2)));
    expect(pushes()).toBe(100);
    {
      await using _unpulled = store.events();
    }
    store.apply(ev('ADDED', obj('c', 3)));
    expect(pushes()).toBe(100);
    for (const it of iterators) expect(await it.next()).toEqual(DONE);
  });

  it('return() while a next() is pending settles it done and unsubscribes within 100 ms (18.4)', async () => {
    const store = new Store<Obj>();
    store.apply(synced());
    const pushes = countPushes();
    const it = store.events();
    const pending = it.next();
    await settle();
    const returned = it.return();
    expect(await within(pending)).toEqual(DONE);
    expect(await within(returned)).toEqual(DONE);
    store.apply(ev('ADDED', obj('a', 1)));
    expect(pushes()).toBe(0);
  });

  it('a signal aborted while a next() is pending, or before the first pull, settles done and unsubscribes', async () => {
    const store = new Store<Obj>();
    store.apply(synced());
    const pushes = countPushes();
    const ctl = new AbortController();
    const it = store.events({ signal: ctl.signal });
    const never = store.events({ signal: ctl.signal });
    const pending = it.next();
    await settle();
    ctl.abort();
    expect(await within(pending)).toEqual(DONE);
    expect(await never.next()).toEqual(DONE);
    await settle();
    store.apply(ev('ADDED', obj('a', 1)));
    expect(pushes()).toBe(0);
  });
});

describe('Store.events(): failure', () => {
  it('fail() ends every iteration with the error after what was queued; a new one rejects at once', async () => {
    const store = new Store<Obj>();
    store.apply(synced());
    const it = store.events();
    store.apply(ev('ADDED', obj('a', 1)));
    const error = new KwatchError('INVALID_OPTION', 'boom');
    store.fail(error);
    expect((await it.next()).value).toMatchObject({ type: 'ADDED' });
    await expect(within(it.next())).rejects.toBe(error);
    await expect(within(store.events().next())).rejects.toBe(error);
  });

  it('a shared store’s events() reject with the typed error when the shared watch fails for good (18.5)', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
    sim.setModes({ errors: { status: 403 } });
    const informers = new InformerFactory({ transport: sim, clock });
    const pods = informers.store(ConfigMap, { namespace: 'ns' });
    const events = pods.events();
    await expect(within(events.next(), 1000)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(pods.synced()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(within(pods.events().next(), 1000)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    pods.release();
  });

  it('a shared store’s events() end (done) when the factory stops', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
    const informers = new InformerFactory({ transport: sim, clock });
    const pods = informers.store(ConfigMap, { namespace: 'ns' });
    await pods.synced();
    const events = pods.events();
    const pending = events.next();
    await settle();
    informers.stop();
    expect(await within(pending)).toEqual(DONE);
  });
});

describe('Store.events(): catch-up', () => {
  it('a delete-and-recreate (new uid) missed by a lagging iteration is DELETED then ADDED, not MODIFIED (18.8b)', async () => {
    const store = new Store<Obj>();
    store.apply(ev('ADDED', obj('a', 1, 'uid-1')));
    store.apply(ev('ADDED', obj('b', 2)));
    store.apply(synced());
    const it = store.events({ bufferSize: 1 });
    store.apply(ev('DELETED', obj('a', 3, 'uid-1')));
    store.apply(ev('ADDED', obj('a', 4, 'uid-2')));
    store.apply(ev('MODIFIED', obj('b', 5, 'uid-b', '2')));
    const got: Array<{ type: string; name: string; uid: string; old?: string; synthetic: boolean }> = [];
    for (let i = 0; i < 3; i++) {
      const c = (await within(it.next())).value;
      if (!c) break;
      got.push({
        type: c.type,
        name: c.object.metadata.name,
        uid: c.object.metadata.uid,
        ...(c.old && { old: c.old.metadata.uid }),
        synthetic: c.synthetic,
      });
    }
    expect(got).toEqual([
      { type: 'DELETED', name: 'a', uid: 'uid-1', old: 'uid-1', synthetic: true },
      { type: 'ADDED', name: 'a', uid: 'uid-2', synthetic: true },
      { type: 'MODIFIED', name: 'b', uid: 'uid-b', old: 'uid-b', synthetic: true },
    ]);
    await it.return();
  });

  it('an ADDED of a new uid over a stored object (a resync that found it recreated) is DELETED then ADDED', async () => {
    const store = new Store<Obj>();
    store.apply(ev('ADDED', obj('a', 1, 'uid-1')));
    store.apply(synced());
    const it = store.events();
    store.apply({ type: 'RESYNC', reason: new KwatchError('INVALID_OPTION', 'test') } as never);
    store.apply(ev('DELETED', obj('a', 1, 'uid-1'), true));
    store.apply(ev('ADDED', obj('a', 2, 'uid-2'), true));
    store.apply(synced());
    const a = (await within(it.next())).value;
    const b = (await within(it.next())).value;
    expect([a?.type, a?.object.metadata.uid, b?.type, b?.object.metadata.uid]).toEqual(['DELETED', 'uid-1', 'ADDED', 'uid-2']);
    await it.return();
  });

  it('an iteration that took the DELETED of a recreate and then fell behind gets the ADDED once, not the DELETED again', async () => {
    const store = new Store<Obj>();
    store.apply(ev('ADDED', obj('a', 1, 'uid-1')));
    store.apply(synced());
    const it = store.events({ bufferSize: 2 });
    store.apply({ type: 'RESYNC', reason: new KwatchError('INVALID_OPTION', 'test') } as never);
    store.apply(ev('DELETED', obj('a', 1, 'uid-1'), true));
    store.apply(ev('ADDED', obj('a', 2, 'uid-2'), true));
    store.apply(synced());
    expect((await within(it.next())).value).toMatchObject({ type: 'DELETED', object: { metadata: { uid: 'uid-1' } } });
    store.apply(ev('ADDED', obj('b', 3)));
    store.apply(ev('ADDED', obj('c', 4))); // three queued: it falls behind
    const rest: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = (await within(it.next())).value;
      rest.push(`${c?.type} ${c?.object.metadata.name} ${c?.object.metadata.uid}`);
    }
    expect(rest).toEqual(['ADDED a uid-2', 'ADDED b uid-b', 'ADDED c uid-c']);
    await it.return();
  });
});
