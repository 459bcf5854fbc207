// InformerFactory subscribers, model-based: random server changes, compactions that force the shared
// watch to resync, subscribers that join late, pull slowly (tiny queues: overflow resyncs), and leave.
// After every run, each subscriber that stayed has seen a consistent history (ADDED only for what it
// did not hold, MODIFIED/DELETED only for what it held, versions never going back) whose end is the server's state.
// The second property adds the edges: subscribers that leave before the first pull, while a next() is pending,
// that overflow during the initial sync, store handles that come and go, and a server in random hostile modes;
// nothing is held after leaving, every first SYNCED is the initial one, requests stay within 10 + 5·T.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, InformerFactory, isMarker, type SharedStore, type WatchEvent, type WatchMarker } from '../src/index.ts';

type Item = WatchEvent<ConfigMap> | WatchMarker;
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

const action = fc.oneof(
  { weight: 6, arbitrary: fc.record({ a: fc.constant('upsert' as const), name: fc.constantFrom(...NAMES) }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('delete' as const), name: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: fc.constant({ a: 'compact' as const }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('join' as const), bound: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ a: fc.constant('pull' as const), who: fc.nat(10), n: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('leave' as const), who: fc.nat(10) }) },
  { weight: 3, arbitrary: fc.constant({ a: 'settle' as const }) },
);

/** One subscriber: its stream, pulled one item at a time, and the view those items build. */
class Subscriber {
  readonly view = new Map<string, { uid: string; rv: number }>();
  readonly log: string[] = [];
  #outstanding: Promise<unknown> | undefined;
  #got: IteratorResult<Item> | undefined;
  done = false;
  readonly stream: AsyncGenerator<Item, void, undefined>;
  readonly #leave = new AbortController();
  #synced = false;
  constructor(informers: InformerFactory, bufferSize: number) {
    this.stream = informers.stream(ConfigMap, { namespace: 'ns', markers: true, bufferSize, signal: this.#leave.signal });
  }

  /** Leaves by `return()`, also while a `next()` is pending: that `next()` must settle done, promptly. */
  async returnNow(): Promise<void> {
    this.done = true;
    const pending = this.#got ? undefined : this.#outstanding; // one that settled already holds an item, untaken
    await this.stream.return(undefined);
    if (pending) {
      const settled = await Promise.race([pending.then(() => true), turn().then(() => false)]);
      expect(settled, `a next() pending at return() did not settle: ${this.log.join(', ')}`).toBe(true);
      expect(this.#got?.done ?? true, 'a next() pending at return() settled with an item').toBe(true);
    }
  }

  /** Takes up to `n` items that are ready, without waiting for new ones. */
  async pull(n: number): Promise<void> {
    for (let i = 0; i < n && !this.done; i++) {
      if (!this.#outstanding) {
        this.#got = undefined;
        this.#outstanding = this.stream.next().then((r) => (this.#got = r));
      }
      await turn();
      if (!this.#got) return;
      this.#outstanding = undefined;
      if (this.#got.done) this.done = true;
      else this.#apply(this.#got.value);
    }
  }

  async leave(): Promise<void> {
    this.done = true;
    this.#leave.abort(); // ends a pull that waits (a return() would queue behind it)
    await this.#outstanding;
    await this.stream.return(undefined);
  }

  #apply(e: Item): void {
    if (isMarker(e)) {
      this.log.push(e.type === 'SYNCED' && e.initial ? 'SYNCED initial' : e.type);
      if (e.type === 'SYNCED') {
        expect(e.initial, `its first SYNCED is the initial one, and only that: ${this.log.join(', ')}`).toBe(!this.#synced);
        this.#synced = true;
      }
      return;
    }
    const meta = e.object.metadata as { name: string; uid: string; resourceVersion: string };
    const key = meta.name;
    const held = this.view.get(key);
    this.log.push(`${e.type} ${key}@${meta.resourceVersion}`);
    const rv = Number(meta.resourceVersion);
    if (e.type === 'ADDED') {
      expect(held, `ADDED ${key} while holding it: ${this.log.join(', ')}`).toBeUndefined();
      this.view.set(key, { uid: meta.uid, rv });
    } else {
      expect(held, `${e.type} ${key} not held: ${this.log.join(', ')}`).toBeDefined();
      if (e.type === 'MODIFIED') {
        expect(rv, `${key} went back: ${this.log.join(', ')}`).toBeGreaterThan(held?.rv ?? 0);
        this.view.set(key, { uid: meta.uid, rv });
      } else this.view.delete(key);
    }
  }
}

describe('InformerFactory subscribers, model-based', () => {
  it('every subscriber that stays converges to the server with a consistent history (late joins, overflows, resyncs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 20, maxLength: 80 }), async (actions) => {
        const clock = new ManualClock();
        const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom });
        sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
        const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
        const subs: Subscriber[] = [new Subscriber(informers, 2)];
        const settle = async () => {
          for (let i = 0; i < 10; i++) {
            await turn();
            clock.advance(5_000); // backoffs after a 410
          }
        };
        let v = 0;
        for (const act of actions) {
          const live = subs.filter((s) => !s.done);
          if (act.a === 'upsert') {
            if (sim.get('configmaps', `ns/${act.name}`)) sim.update('configmaps', `ns/${act.name}`, { data: { v: String(++v) } });
            else sim.create('configmaps', { metadata: { name: act.name, namespace: 'ns' } });
          } else if (act.a === 'delete') {
            if (sim.get('configmaps', `ns/${act.name}`)) sim.delete('configmaps', `ns/${act.name}`);
          } else if (act.a === 'compact') {
            sim.compact();
            sim.expireWatches();
          } else if (act.a === 'join') {
            subs.push(new Subscriber(informers, act.bound));
          } else if (act.a === 'pull') {
            await live[act.who % Math.max(1, live.length)]?.pull(act.n);
          } else if (act.a === 'leave') {
            if (live.length > 1) await live[act.who % live.length]?.leave();
          } else await settle();
        }
        // Drain: the server is quiet; every subscriber still there catches up.
        for (let round = 0; round < 5; round++) {
          await settle();
          for (const s of subs) if (!s.done) await s.pull(1000);
        }
        const server = new Map(sim.objects('configmaps', 'ns').map((o) => [o.metadata.name, Number(o.metadata.resourceVersion)]));
        for (const s of subs.filter((x) => !x.done)) {
          const view = new Map([...s.view].map(([k, x]) => [k, x.rv]));
          expect(view, s.log.join(', ')).toEqual(server);
        }
        expect(informers.watches()).toHaveLength(1);
        informers.stop();
        for (const s of subs) if (!s.done) await s.leave();
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  const edge = fc.oneof(
    { weight: 6, arbitrary: fc.record({ a: fc.constant('upsert' as const), name: fc.constantFrom(...NAMES) }) },
    { weight: 3, arbitrary: fc.record({ a: fc.constant('delete' as const), name: fc.constantFrom(...NAMES) }) },
    { weight: 1, arbitrary: fc.constant({ a: 'compact' as const }) },
    { weight: 2, arbitrary: fc.record({ a: fc.constant('join' as const), bound: fc.integer({ min: 1, max: 6 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({ a: fc.constant('ghost' as const), how: fc.constantFrom('return', 'abort', 'using') }),
    },
    { weight: 4, arbitrary: fc.record({ a: fc.constant('pull' as const), who: fc.nat(10), n: fc.nat(5) }) },
    {
      weight: 2,
      arbitrary: fc.record({ a: fc.constant('leave' as const), who: fc.nat(10), how: fc.constantFrom('abort', 'return') }),
    },
    { weight: 1, arbitrary: fc.constant({ a: 'handle' as const }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant('release' as const), who: fc.nat(10) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        a: fc.constant('mode' as const),
        mode: fc.constantFrom('closeAtOnce', 'goneForever', 'errors500', 'stall', 'watchListUnsupported', 'healthy'),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ a: 'settle' as const }) },
  );

  it('edges: leaving before the first pull or while pending, initial-sync overflows, handles, hostile modes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edge, { minLength: 20, maxLength: 80 }), fc.boolean(), async (actions, slowStart) => {
        const clock = new ManualClock();
        // Every event its own chunk when `slowStart`: the initial sync arrives over many turns, and tiny queues overflow in it.
        const sim = new SimulatedApiServer({
          clock,
          errorFactory: apiErrorFrom,
          ...(slowStart && { chunking: { eventsPerChunk: 1 } }),
        });
        for (const name of NAMES.slice(0, 4)) sim.create('configmaps', { metadata: { name, namespace: 'ns' } });
        const t0 = clock.now();
        const informers = new InformerFactory({ transport: sim, clock, graceMs: 1000 });
        const subs: Subscriber[] = [new Subscriber(informers, 1)];
        const handles: SharedStore<ConfigMap>[] = [];
        const settle = async () => {
          for (let i = 0; i < 10; i++) {
            await turn();
            clock.advance(5_000); // backoffs after a 410 or an error
          }
        };
        /** Nothing held after leaving: the watch's holders are exactly the subscribers and handles still there. */
        const checkHolders = () => {
          const held = subs.filter((s) => !s.done).length + handles.filter((h) => !h.released).length;
          const watches = informers.watches();
          expect(watches.length).toBeLessThanOrEqual(1);
          expect(watches[0]?.holders ?? 0).toBe(held);
        };
        let v = 0;
        for (const act of actions) {
          const live = subs.filter((s) => !s.done);
          if (act.a === 'upsert') {
            if (sim.get('configmaps', `ns/${act.name}`)) sim.update('configmaps', `ns/${act.name}`, { data: { v: String(++v) } });
            else sim.create('configmaps', { metadata: { name: act.name, namespace: 'ns' } });
          } else if (act.a === 'delete') {
            if (sim.get('configmaps', `ns/${act.name}`)) sim.delete('configmaps', `ns/${act.name}`);
          } else if (act.a === 'compact') {
            sim.compact();
            sim.expireWatches();
          } else if (act.a === 'join') {
            subs.push(new Subscriber(informers, act.bound));
          } else if (act.a === 'ghost') {
            // Joins and leaves before its first pull.
            if (act.how === 'using') {
              await using _ghost = informers.stream(ConfigMap, { namespace: 'ns', markers: true });
            } else if (act.how === 'abort') {
              const ctl = new AbortController();
              const ghost = informers.stream(ConfigMap, { namespace: 'ns', signal: ctl.signal });
              ctl.abort();
              expect(await ghost.next()).toEqual({ done: true, value: undefined });
            } else {
              await informers.stream(ConfigMap, { namespace: 'ns' }).return(undefined);
            }
          } else if (act.a === 'pull') {
            await live[act.who % Math.max(1, live.length)]?.pull(act.n);
          } else if (act.a === 'leave') {
            const who = live[act.who % Math.max(1, live.length)];
            if (act.how === 'return') await who?.returnNow();
            else await who?.leave();
          } else if (act.a === 'handle') {
            handles.push(informers.store(ConfigMap, { namespace: 'ns' }));
          } else if (act.a === 'release') {
            handles.filter((h) => !h.released)[act.who % Math.max(1, handles.length)]?.release();
          } else if (act.a === 'mode') {
            sim.wellBehaved();
            if (act.mode === 'closeAtOnce') sim.setModes({ closeAtOnce: true });
            else if (act.mode === 'goneForever') sim.setModes({ goneForever: true });
            else if (act.mode === 'errors500') sim.setModes({ errors: { status: 500, times: 3 } });
            else if (act.mode === 'stall') sim.setModes({ stall: true });
            else if (act.mode === 'watchListUnsupported') sim.setModes({ watchListUnsupported: true });
          } else await settle();
          checkHolders();
        }
        // Drain: the server heals and is quiet; every subscriber still there catches up.
        sim.wellBehaved();
        sim.expireWatches(); // stalled watches end (a real client's inactivity timeout would)
        for (let round = 0; round < 5; round++) {
          await settle();
          for (const s of subs) if (!s.done) await s.pull(1000);
        }
        const server = new Map(sim.objects('configmaps', 'ns').map((o) => [o.metadata.name, Number(o.metadata.resourceVersion)]));
        for (const s of subs.filter((x) => !x.done)) {
          const view = new Map([...s.view].map(([k, x]) => [k, x.rv]));
          expect(view, s.log.join(', ')).toEqual(server);
        }
        for (const h of handles.filter((x) => !x.released)) {
          await h.synced();
          expect(new Map(h.list().map((o) => [o.metadata?.name, Number(o.metadata?.resourceVersion)]))).toEqual(server);
        }
        checkHolders();
        // One identity, one request budget: within 10 + 5·T, whatever the server did.
        const seconds = (clock.now() - t0) / 1000;
        expect(sim.requests.length).toBeLessThanOrEqual(10 + 5 * seconds);
        // Everyone leaves: nothing is held, and the watch closes after the grace period.
        for (const s of subs) if (!s.done) await s.returnNow();
        for (const h of handles) h.release();
        checkHolders();
        clock.advance(1000);
        await settle();
        expect(informers.watches()).toEqual([]);
        expect(sim.openWatches).toBe(0);
        informers.stop();
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 100) },
    );
  }, 120_000);
});
