// Issue 18's defects, each reproduced through the public API (../src/index.ts) against SimulatedApiServer or a
// scripted WatchTransport. Every test here fails on 6570eb7 for the reason its name gives and passes once fixed.
// A test that would hang on the defect fails by a timer of its own (`within`), never by vitest's timeout.
import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConfigMap, Secret } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import {
  apiErrorFrom,
  InformerFactory,
  isKwatchError,
  isMarker,
  MultiplexingWatcher,
  type ResumeStore,
  Store,
  type StoreChange,
  type StreamBody,
  WatchEvent,
  Watcher,
  type WatchTransport,
} from '../src/index.ts';
import { maxPerSecond } from './simWorld.ts';

type Any = any;
type Outcome<T> = { ok: T } | { error: unknown };

/** Lets every pending promise, microtask and immediate run (no simulated time passes). */
async function settle(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** `p`, or a rejection naming `what` when it has not settled within `ms` of real time. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** How `p` settled, as a value (never rejects). */
function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
}

/** `TYPE name`, with `*` for synthetic events; markers as their type (SYNCED with `initial` when it is true). */
const show = (e: Any): string => {
  if (isMarker(e)) return e.type === 'SYNCED' && e.initial ? 'SYNCED initial' : e.type;
  return `${e.type}${e.synthetic ? '*' : ''} ${e.object?.metadata?.name}`;
};

/** A world on a manual clock: the server and every watcher share it. */
function world(objects: string[] = []) {
  const clock = new ManualClock();
  const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
  for (const name of objects) sim.create('configmaps', { metadata: { name, namespace: 'ns' }, data: { v: '1' } });
  return { clock, sim };
}

/** Moves simulated time forward, letting everything run at every timer on the way. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const until = clock.now() + ms;
  for (;;) {
    await settle(3);
    const next = clock.nextTimerAt();
    if (next === undefined || next > until) break;
    clock.runNext();
  }
  clock.advanceTo(until);
  await settle(3);
}

/** Lets `p` settle, moving the manual clock timer by timer, but not past `limit` (simulated ms since the epoch). */
async function driveUntil(p: Promise<unknown>, clock: ManualClock, limit: number): Promise<void> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10_000; i++) {
    await settle(3);
    if (done) return;
    const next = clock.nextTimerAt();
    if (next === undefined || next > limit) {
      clock.advanceTo(limit);
      await settle(3);
      return;
    }
    clock.runNext();
  }
}

/** Pulls a stream in the background, keeping what it yields and how it ended. */
class Sub {
  readonly items: Any[] = [];
  error: unknown;
  ended = false;
  readonly done: Promise<void>;
  constructor(stream: AsyncIterable<Any>) {
    this.done = (async () => {
      try {
        for await (const e of stream) this.items.push(e);
      } catch (err) {
        this.error = err;
      } finally {
        this.ended = true;
      }
    })();
  }
  get lines(): string[] {
    return this.items.map(show);
  }
}

/** Node's `gc()`, exposed at run time. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('issue 18', () => {
  // ---------------------------------------------------------------------------------------------------------------
  // 1. A LIST `continue` loop is not paced.
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * A server whose every LIST page is the same object with the same `continue` token, one event-loop turn per
   * page (as a network would take). Every request's simulated time is recorded.
   */
  function endlessPages(clock: ManualClock): { transport: WatchTransport; requests: number[] } {
    const requests: number[] = [];
    const transport: WatchTransport = {
      async getJson(_path, _query, signal) {
        requests.push(clock.now());
        await turn();
        if (signal.aborted) throw signal.reason;
        return {
          kind: 'ConfigMapList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '5', continue: 'the-same-token' },
          items: [{ metadata: { name: 'x', namespace: 'ns', uid: 'uid-x', resourceVersion: '5' }, data: { v: '1' } }],
        };
      },
      async openStream(_path, _query, signal): Promise<StreamBody> {
        requests.push(clock.now());
        let close = (): void => {};
        const closed = new Promise<void>((resolve) => {
          close = resolve;
        });
        signal.addEventListener('abort', () => close(), { once: true });
        return {
          close: () => close(),
          [Symbol.asyncIterator]: () => ({
            next: async (): Promise<IteratorResult<Uint8Array>> => {
              await closed; // silent until closed
              return { done: true, value: undefined };
            },
          }),
        };
      },
    };
    return { transport, requests };
  }

  /** Runs a watcher against {@link endlessPages} for 3 s of simulated time while its consumer waits for an event. */
  async function listForThreeSeconds() {
    const clock = new ManualClock();
    const { transport, requests } = endlessPages(clock);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport, clock, watchList: false });
    const s = w.stream();
    const t0 = clock.now();
    expect(show((await within(s.next(), 2000, 'the first page')).value)).toBe('ADDED* x');
    const pending = outcome(s.next()); // the consumer waits; the watcher keeps listing
    for (let i = 0; i < 60; i++) {
      await settle(5);
      clock.advance(50);
    }
    await settle(5);
    const seconds = (clock.now() - t0) / 1000;
    const health = w.health();
    w.stop();
    await within(pending, 2000, 'the pending next() after stop()');
    return { requests, seconds, health };
  }

  it('18.1 a LIST whose every page repeats the object and continue token is paced: <= 15 in any second, 10 + 5·T in all', async () => {
    const { requests, seconds } = await listForThreeSeconds();
    expect(seconds).toBe(3);
    expect(requests.length).toBeLessThanOrEqual(10 + 5 * seconds);
    expect(maxPerSecond(requests)).toBeLessThanOrEqual(15);
  });

  it('18.1 a LIST whose every page repeats the object and continue token is reported as failing (health().lastError)', async () => {
    const { health } = await listForThreeSeconds();
    expect(health.lastError).toBeDefined();
    expect(health.consecutiveErrors).toBeGreaterThan(0);
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 2. resume loses an event when `save` fails once.
  // ---------------------------------------------------------------------------------------------------------------

  /** A resume store whose first save rejects; `load` gives the last version saved. */
  function saveFailsOnce(): ResumeStore & { saves: string[] } {
    const saves: string[] = [];
    let failed = false;
    return {
      saves,
      load: async () => saves.at(-1),
      save: async (rv) => {
        if (!failed) {
          failed = true;
          throw new Error('disk full, once');
        }
        saves.push(rv);
      },
    };
  }

  /** `name@resourceVersion` of an event's object, the marker type for markers. */
  const version = (e: Any): string =>
    isMarker(e) ? e.type : `${e.object?.metadata?.name}@${e.object?.metadata?.resourceVersion}`;

  /** Pulls `stream` until it ends, fails, yields `until`, or yields nothing for `quietMs`; then stops it with `stop`. */
  async function drain(stream: AsyncGenerator<Any, void, undefined>, stop: () => void, until?: string, quietMs = 500) {
    const got: string[] = [];
    let error: unknown;
    for (;;) {
      const next = outcome(stream.next());
      const r = await Promise.race([next, new Promise<'quiet'>((resolve) => setTimeout(() => resolve('quiet'), quietMs))]);
      if (r === 'quiet') {
        stop();
        const late = await within(next, 2000, 'a pull after stop()');
        if ('ok' in late && !late.ok.done) got.push(version(late.ok.value));
        break;
      }
      if ('error' in r) {
        error = r.error;
        break;
      }
      if (r.ok.done) break;
      got.push(version(r.ok.value));
      if (got.at(-1) === until) {
        stop();
        break;
      }
    }
    return { got, error };
  }

  /** The first stream: the initial state, then a change while the first save (at SYNCED) fails. */
  async function streamWhileSaveFails(sim: SimulatedApiServer, w: Watcher<Any, Any>, resume: ResumeStore) {
    const s = w.stream({ resume, markers: true });
    expect(show((await within(s.next(), 2000, 'ADDED a')).value)).toBe('ADDED* a');
    expect(show((await within(s.next(), 2000, 'SYNCED')).value)).toBe('SYNCED initial');
    const first = outcome(s.next()); // resumes after SYNCED: the first save (it fails), then waits for a change
    await settle();
    const changed = sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    const lost = `a@${changed.metadata.resourceVersion}`;
    const r = await within(first, 2000, 'the pull after the change');
    const delivered: string[] = [];
    let error: unknown;
    if ('error' in r) error = r.error;
    else if (!r.ok.done) {
      delivered.push(version(r.ok.value));
      const rest = await drain(s, () => w.stop());
      delivered.push(...rest.got);
      error = rest.error;
    }
    return { lost, delivered, error };
  }

  it('18.2 resume: a save that fails once loses no event — the same watcher streaming again delivers it', async () => {
    const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
    sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' }, data: { v: '1' } });
    const resume = saveFailsOnce();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const first = await streamWhileSaveFails(sim, w, resume);
    expect(first.error).toMatchObject({ message: 'disk full, once' }); // documented: a save that rejects ends the stream
    const later = sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    const again = await drain(w.stream({ resume, markers: true }), () => w.stop(), `c@${later.metadata.resourceVersion}`);
    expect(again.error).toBeUndefined();
    expect({ delivered: [...first.delivered, ...again.got] }).toEqual({
      delivered: expect.arrayContaining([first.lost]),
    });
  });

  it('18.2 resume: a save that fails once loses no event — a new Watcher with the same resume store delivers it', async () => {
    const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
    sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' }, data: { v: '1' } });
    const resume = saveFailsOnce();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const first = await streamWhileSaveFails(sim, w, resume);
    expect(first.error).toMatchObject({ message: 'disk full, once' });
    const later = sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    const restarted = new Watcher(ConfigMap, { namespace: 'ns', transport: sim }); // a new process
    const again = await drain(
      restarted.stream({ resume, markers: true }),
      () => restarted.stop(),
      `c@${later.metadata.resourceVersion}`,
    );
    expect(again.error).toBeUndefined();
    expect({ saves: resume.saves, delivered: [...first.delivered, ...again.got] }).toEqual({
      saves: resume.saves,
      delivered: expect.arrayContaining([first.lost]),
    });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 3. `return()` before the first pull leaks.
  // ---------------------------------------------------------------------------------------------------------------

  it('18.3 informers.stream(): return() before the first pull lets the shared watch go after graceMs', async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
    try {
      const s = informers.stream(ConfigMap, { namespace: 'ns' });
      await settle();
      expect(sim.openWatches).toBe(1); // subscribed when called: the watch runs
      const iterator = s[Symbol.asyncIterator]();
      expect(await within(iterator.return(undefined), 500, 'return()')).toEqual({ done: true, value: undefined });
      await advance(clock, 1500);
      expect(informers.watches()).toEqual([]);
      expect(sim.openWatches).toBe(0);
    } finally {
      informers.stop();
    }
  });

  it('18.3 informers.stream(): `await using` without a pull lets the shared watch go after graceMs', async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
    try {
      {
        await using s = informers.stream(ConfigMap, { namespace: 'ns' });
        await settle();
        expect(s).toBeDefined();
        expect(sim.openWatches).toBe(1);
      }
      await advance(clock, 1500);
      expect(informers.watches()).toEqual([]);
      expect(sim.openWatches).toBe(0);
    } finally {
      informers.stop();
    }
  });

  it('18.3 store.events(): return() before the first pull unsubscribes (the store keeps no change for it)', async () => {
    const gc = exposedGc();
    const store = new Store<ConfigMap>();
    store.apply({ type: 'SYNCED', initial: true, resourceVersion: '1' });
    /** Subscribes, leaves before the first pull, then passes an object through the store; a ref to it. */
    const passThrough = (leave: 'abort' | 'return', name: string): WeakRef<object> => {
      const ctl = new AbortController();
      const events = leave === 'abort' ? store.events({ signal: ctl.signal }) : store.events();
      if (leave === 'abort') ctl.abort();
      else void events.return(undefined);
      const object = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'ns', uid: name, resourceVersion: '2' },
      };
      store.apply(new WatchEvent('ADDED', object as unknown as ConfigMap));
      store.apply(new WatchEvent('DELETED', object as unknown as ConfigMap));
      return new WeakRef(object);
    };
    const collected = async (ref: WeakRef<object>): Promise<boolean> => {
      for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
        await settle(2);
        gc();
      }
      return ref.deref() === undefined;
    };
    // The method works: an iteration left by its signal before the first pull holds nothing.
    expect(await collected(passThrough('abort', 'control'))).toBe(true);
    expect(store.size).toBe(0);
    // return() before the first pull must leave as well: no queued change keeps the deleted object alive.
    expect({ leftByReturn: await collected(passThrough('return', 'probe')) }).toEqual({ leftByReturn: true });
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 4. `return()` while a `next()` is pending hangs, on every kind of stream.
  // ---------------------------------------------------------------------------------------------------------------

  /** Calls return() while `pending` (a next()) waits; both must settle promptly as done. */
  async function returnWhilePending(s: AsyncGenerator<Any, void, undefined>, pending: Promise<Outcome<IteratorResult<Any>>>) {
    await settle();
    const returned = outcome(s.return(undefined));
    expect(await within(returned, 500, 'return() while a next() is pending')).toEqual({ ok: { done: true, value: undefined } });
    expect(await within(pending, 500, 'the pending next() after return()')).toEqual({ ok: { done: true, value: undefined } });
  }

  it('18.4 Watcher.stream(): return() while next() is pending settles both and closes the watch', async () => {
    const { clock, sim } = world(['a']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
    const s = w.stream();
    expect(show((await within(s.next(), 2000, 'ADDED a')).value)).toBe('ADDED* a');
    const pending = outcome(s.next());
    try {
      await returnWhilePending(s, pending);
      await settle();
      expect(sim.openWatches).toBe(0);
    } finally {
      w.stop();
      await within(pending, 2000, 'cleanup');
    }
  });

  it('18.4 MultiplexingWatcher.stream(): return() while next() is pending settles both and closes the watches', async () => {
    const { clock, sim } = world(['a']);
    const mux = new MultiplexingWatcher({
      watchers: [
        new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock }),
        new Watcher(Secret, { namespace: 'ns', transport: sim, clock }),
      ],
      clock,
    });
    const s = mux.stream();
    expect(show((await within(s.next(), 2000, 'ADDED a')).value)).toBe('ADDED* a');
    await settle();
    expect(sim.openWatches).toBe(2);
    const pending = outcome(s.next());
    try {
      await returnWhilePending(s, pending);
      await settle();
      expect(sim.openWatches).toBe(0);
    } finally {
      mux.stop();
      await within(pending, 2000, 'cleanup');
    }
  });

  it('18.4 informers.stream(): return() while next() is pending settles both; the watch closes after graceMs', async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
    const s = informers.stream(ConfigMap, { namespace: 'ns' });
    expect(show((await within(s.next(), 2000, 'ADDED a')).value)).toBe('ADDED* a');
    const pending = outcome(s.next());
    try {
      await returnWhilePending(s, pending);
      await advance(clock, 1500);
      expect(informers.watches()).toEqual([]);
      expect(sim.openWatches).toBe(0);
    } finally {
      informers.stop();
      await within(pending, 2000, 'cleanup');
    }
  });

  it('18.4 store.events(): return() while next() is pending settles both', async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    await within(store.synced(), 2000, 'synced()');
    const events = store.events();
    const pending = outcome(events.next());
    try {
      await returnWhilePending(events, pending);
    } finally {
      sim.create('configmaps', { metadata: { name: 'wake', namespace: 'ns' } }); // a change ends the pending next() today
      await within(pending, 2000, 'cleanup');
      store.release();
      informers.stop();
    }
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 5. store.events() after a failure for good; synced()/ready() after stop() or the last release().
  // ---------------------------------------------------------------------------------------------------------------

  it('18.5 store.events(): the shared watch failing for good (403) rejects a pending next()', async () => {
    const { clock, sim } = world(['a']);
    sim.setModes({ errors: { status: 403 } });
    const informers = new InformerFactory({ transport: sim, clock });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    const events = store.events();
    const pending = outcome(events.next());
    await expect(within(store.synced(), 2000, 'synced()')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const r = await within(pending, 1000, 'store.events() next() after the 403').catch((e: unknown) => ({ timedOut: String(e) }));
    expect(r).toMatchObject({ error: { code: 'FORBIDDEN' } });
    store.release();
  });

  it('18.5 synced() and ready() settle when the factory is stopped before the first sync', async () => {
    const { clock, sim } = world(['a']);
    sim.setModes({ stall: true }); // the sync never completes
    const informers = new InformerFactory({ transport: sim, clock });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    const synced = outcome(store.synced());
    const ready = outcome(store.ready());
    await settle();
    expect(sim.openWatches).toBe(1);
    informers.stop();
    const settled = async (p: Promise<unknown>, what: string) =>
      within(p, 1000, what).then(
        () => 'settled',
        (e: unknown) => String(e),
      );
    expect({
      synced: await settled(synced, 'synced() after stop()'),
      ready: await settled(ready, 'ready() after stop()'),
      syncedLater: await settled(outcome(store.synced()), 'synced() called after stop()'),
    }).toEqual({ synced: 'settled', ready: 'settled', syncedLater: 'settled' });
  });

  it('18.5 synced() and ready() settle when the last holder releases before the first sync', async () => {
    const { clock, sim } = world(['a']);
    sim.setModes({ stall: true });
    const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
    const store = informers.store(ConfigMap, { namespace: 'ns' });
    const synced = outcome(store.synced());
    const ready = outcome(store.ready());
    await settle();
    store.release();
    await advance(clock, 1500); // the grace period passes: the watch stops
    expect(informers.watches()).toEqual([]);
    const settled = async (p: Promise<unknown>, what: string) =>
      within(p, 1000, what).then(
        () => 'settled',
        (e: unknown) => String(e),
      );
    expect({
      synced: await settled(synced, 'synced() after the last release()'),
      ready: await settled(ready, 'ready() after the last release()'),
    }).toEqual({ synced: 'settled', ready: 'settled' });
    informers.stop();
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 6. A subscriber that overflows during the initial sync never gets SYNCED with initial: true.
  // ---------------------------------------------------------------------------------------------------------------

  it('18.6 a subscriber that overflows its queue during the initial sync still gets SYNCED with initial: true', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `o${i}`);
    const { clock, sim } = world(names);
    const informers = new InformerFactory({ transport: sim, clock, bufferSize: 3 });
    try {
      const s = informers.stream(ConfigMap, { namespace: 'ns', markers: true });
      const got = [show((await within(s.next(), 2000, 'the first object')).value)]; // pulled while the sync arrives
      await settle(); // slow: the rest of the initial sync (9 objects and SYNCED) passes its queue of 3
      for (let i = 0; i < 30 && !got.at(-1)?.startsWith('SYNCED'); i++) {
        got.push(show((await within(s.next(), 1000, `item ${i + 2}`)).value));
      }
      await s.return(undefined);
      // Every object once, and the initial state's end marked as such.
      expect(got.filter((l) => l !== 'RESYNC' && !l.startsWith('SYNCED')).sort()).toEqual(names.map((n) => `ADDED* ${n}`));
      expect(got).toContain('SYNCED initial');
    } finally {
      informers.stop();
    }
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 7. The factory forgets a failed watch together with its request budget.
  // ---------------------------------------------------------------------------------------------------------------

  it('18.7 a store()/synced()/release() retry loop against a 403 is paced: <= 15 in any second, 10 + 5·T in all', async () => {
    const { clock, sim } = world(['a']);
    sim.setModes({ errors: { status: 403 } });
    const informers = new InformerFactory({ transport: sim, clock });
    const t0 = clock.now();
    const end = t0 + 2000;
    const realDeadline = Date.now() + 5000;
    let tries = 0;
    while (clock.now() < end && Date.now() < realDeadline) {
      const store = informers.store(ConfigMap, { namespace: 'ns' });
      await driveUntil(store.synced(), clock, end); // a paced factory may make it wait: the clock moves meanwhile
      store.release();
      tries += 1;
      if (clock.now() < end) clock.advance(20); // the loop's own pace: 50 tries a second
    }
    informers.stop();
    const times = sim.requests.filter((r) => r.at >= t0 && r.at <= end).map((r) => r.at);
    const seconds = (end - t0) / 1000;
    expect(tries).toBeGreaterThan(0);
    expect(times.length).toBeLessThanOrEqual(10 + 5 * seconds);
    expect(maxPerSecond(times)).toBeLessThanOrEqual(15);
  });

  // ---------------------------------------------------------------------------------------------------------------
  // 8. One handle's throwing index function; store.events() catch-up across a delete-and-recreate.
  // ---------------------------------------------------------------------------------------------------------------

  it("18.8a one handle's throwing index function does not fail the other subscribers; any error is a KwatchError", async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock });
    try {
      const owner = informers.store(ConfigMap, { namespace: 'ns' });
      const other = informers.store(ConfigMap, { namespace: 'ns' });
      await within(owner.synced(), 2000, 'synced()');
      const sub = new Sub(informers.stream(ConfigMap, { namespace: 'ns' }));
      await settle();
      // Throws a TypeError for an object without data.
      owner.addIndex('byV', (cm) => [(cm.data as Record<string, string>).v as string]);
      sim.create('configmaps', { metadata: { name: 'boom', namespace: 'ns' } });
      sim.create('configmaps', { metadata: { name: 'after', namespace: 'ns' }, data: { v: '1' } });
      await settle();
      expect({ error: sub.error === undefined ? 'none' : String(sub.error), lines: sub.lines }).toEqual({
        error: 'none',
        lines: ['ADDED* a', 'ADDED boom', 'ADDED after'],
      });
      expect(await within(outcome(other.synced()), 1000, "the other handle's synced()")).toEqual({ ok: undefined });
      const mine = await within(outcome(owner.synced()), 1000, "the owner's synced()");
      if ('error' in mine) expect(isKwatchError(mine.error)).toBe(true);
    } finally {
      informers.stop();
    }
  });

  it('18.8b store.events() catch-up reports a delete-and-recreate (new uid) as DELETED then ADDED, not MODIFIED', async () => {
    const { clock, sim } = world(['a']);
    const informers = new InformerFactory({ transport: sim, clock });
    try {
      const store = informers.store(ConfigMap, { namespace: 'ns' });
      await within(store.synced(), 2000, 'synced()');
      const oldUid = store.get('ns', 'a')?.metadata?.uid;
      const events = store.events({ bufferSize: 1 });
      // The consumer lags: four changes pass its queue of one.
      sim.delete('configmaps', 'ns/a');
      const recreated = sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' }, data: { v: '2' } });
      sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' } });
      sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
      await settle();
      expect(recreated.metadata.uid).not.toBe(oldUid);
      const describeChange = (c: StoreChange<ConfigMap>): string =>
        `${c.type} ${c.object.metadata?.name} uid=${c.object.metadata?.uid}` +
        (c.type === 'MODIFIED' ? ` (old uid=${c.old.metadata?.uid})` : '');
      const got: string[] = [];
      for (let i = 0; i < 6 && !got.at(-1)?.startsWith('ADDED c'); i++) {
        const r = await within(events.next(), 1000, `change ${i + 1}`).catch((e: unknown) => ({ done: true, value: String(e) }));
        if (r.done) break;
        got.push(describeChange(r.value as StoreChange<ConfigMap>));
      }
      expect(got.filter((l) => / a /.test(l))).toEqual([`DELETED a uid=${oldUid}`, `ADDED a uid=${recreated.metadata.uid}`]);
      void events.return(undefined);
    } finally {
      informers.stop();
    }
  });
});
