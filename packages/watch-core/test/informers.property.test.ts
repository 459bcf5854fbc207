// InformerFactory subscribers, model-based: random server changes, compactions that force the shared
// watch to resync, subscribers that join late, pull slowly (tiny queues: overflow resyncs), and leave.
// After every run, each subscriber that stayed has seen a consistent history (ADDED only for what it
// did not hold, MODIFIED/DELETED only for what it held, versions never going back) whose end is the server's state.
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, InformerFactory, isMarker, type WatchEvent, type WatchMarker } from '../src/index.ts';

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
  constructor(informers: InformerFactory, bufferSize: number) {
    this.stream = informers.stream(ConfigMap, { namespace: 'ns', markers: true, bufferSize, signal: this.#leave.signal });
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
      this.log.push(e.type);
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
});
