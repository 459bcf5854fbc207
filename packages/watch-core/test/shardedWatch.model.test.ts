// A sharded watcher against a model: random reshards, writes, failures and a slow consumer on the simulated server.
import { ConfigMap } from '@kwatch/models/v1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE, type HashRange, InformerFactory, inRanges, isMarker, type Shard, uidHash, Watcher } from '../src/index.ts';
import { union } from '../src/sharding/rangeSet.ts';
import { type Any, flush, world } from './simWorld.ts';

/** A shard the test moves by hand. */
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
    for (const l of [...this.#listeners]) l();
  }
}

/**
 * Four ranges tiling the hash space, cut so that the simulator's uids (sequential: their FNV-1a hashes differ only in
 * the low bits, so even quarters would put them all in one) fall into all four, round robin.
 */
const QUARTERS: HashRange[][] = (() => {
  const simUid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const points = Array.from({ length: 64 }, (_, i) => ({ at: uidHash(simUid(i + 1)), quarter: i % 4 })).sort((x, y) =>
    x.at < y.at ? -1 : 1,
  );
  const out: HashRange[][] = [[], [], [], []];
  points.forEach((p, k) => {
    const start = k === 0 ? 0n : ((points[k - 1] as { at: bigint }).at + p.at) / 2n;
    const end = k === points.length - 1 ? HASH_SPACE : (p.at + (points[k + 1] as { at: bigint }).at) / 2n;
    (out[p.quarter] as HashRange[]).push({ start, end });
  });
  return out;
})();
/** The ranges of a 4-bit mask of quarters. */
const rangesOf = (mask: number): HashRange[] => union(QUARTERS.filter((_, i) => mask & (1 << i)).flat(), []);
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

type Op =
  | { op: 'move'; mask: number }
  | { op: 'write'; name: string }
  | { op: 'take'; n: number }
  | { op: 'time'; ms: number }
  | { op: 'drop' }
  | { op: 'gone' }
  | { op: 'errors'; times: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('move' as const), mask: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), name: fc.constantFrom(...NAMES) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('take' as const), n: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('time' as const), ms: fc.constantFrom(0, 10, 500, 3_000) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'drop' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'gone' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('errors' as const), times: fc.integer({ min: 1, max: 3 }) }) },
);

/** A watcher on the simulated server with a hand-moved shard, and a consumer that takes an item only when given credit. */
function harness(startMask: number, options: { watchList?: boolean; pageSize?: number; names?: number } = {}) {
  const { clock, sim } = world();
  for (const name of NAMES.slice(0, options.names ?? 6)) {
    sim.create('configmaps', { metadata: { name, namespace: 'ns' }, data: { v: '0' } });
  }
  const shard = new MovableShard(rangesOf(startMask));
  const watcher = new Watcher(ConfigMap, {
    namespace: 'ns',
    transport: sim,
    clock,
    shard,
    watchList: options.watchList ?? false,
    pageSize: options.pageSize ?? 500,
  });
  // What the consumer holds (name → resourceVersion).
  const held = new Map<string, string>();
  const problems: string[] = [];
  /** MODIFIED or DELETED of an object the consumer does not hold. */
  const notHeld: string[] = [];
  let credit = 0;
  let wakeConsumer: (() => void) | undefined;
  const status = { ended: undefined as unknown };
  const it = (watcher.stream({ markers: true }) as AsyncIterable<Any>)[Symbol.asyncIterator]();
  const consumer = (async () => {
    for (;;) {
      while (credit === 0) await new Promise<void>((r) => (wakeConsumer = r));
      credit -= 1;
      const r = await it.next();
      if (r.done) return;
      const e = r.value;
      if (isMarker(e)) continue;
      const meta = e.object.metadata;
      if (!e.tombstone && !inRanges(meta.uid, shard.ranges())) problems.push(`${e.type} ${meta.name} out of range`);
      if (e.type !== 'DELETED' && held.get(meta.name) === meta.resourceVersion) problems.push(`${e.type} ${meta.name} again`);
      if (e.type !== 'ADDED' && !held.has(meta.name)) notHeld.push(`${e.type} ${meta.name}${e.tombstone ? ' (tombstone)' : ''}`);
      if (e.type === 'DELETED') held.delete(meta.name);
      else held.set(meta.name, meta.resourceVersion);
    }
  })().then(
    () => (status.ended = 'ended'),
    (err) => (status.ended = err),
  );
  const give = (n: number) => {
    credit += n;
    wakeConsumer?.();
  };
  let version = 0;
  /** Creates, changes or deletes `name` (by the count of writes so far). */
  const write = (name: string) => {
    const key = `ns/${name}`;
    version += 1;
    if (!sim.get('configmaps', key))
      sim.create('configmaps', { metadata: { name, namespace: 'ns' }, data: { v: String(version) } });
    else if (version % 3 === 0) sim.delete('configmaps', key);
    else sim.update('configmaps', key, { data: { v: String(version) } });
  };
  /** The consumer takes everything; time passes beyond any backoff; then it must hold exactly the in-range objects. */
  const settleAndCheck = async () => {
    give(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 8; i++) await clock.advanceAsync(30_000);
    const ranges = shard.ranges();
    const expected = new Map(
      sim
        .objects('configmaps', 'ns')
        .filter((o) => inRanges(o.metadata.uid, ranges))
        .map((o) => [o.metadata.name as string, o.metadata.resourceVersion as string]),
    );
    const ended = status.ended;
    watcher.stop();
    await clock.advanceAsync(0);
    await consumer;
    expect(problems).toEqual([]);
    if (process.env.DBG && notHeld.length) console.log(notHeld);
    expect(ended).toBeUndefined();
    expect(Object.fromEntries([...held].sort())).toEqual(Object.fromEntries([...expected].sort()));
  };
  return { clock, sim, shard, watcher, held, give, write, settleAndCheck };
}

async function run(ops: Op[], startMask: number, watchList: boolean, pageSize: number): Promise<void> {
  const h = harness(startMask, { watchList, pageSize });
  for (const o of ops) {
    switch (o.op) {
      case 'move':
        h.shard.move(rangesOf(o.mask));
        break;
      case 'write':
        h.write(o.name);
        continue; // writes in one turn share a chunk
      case 'take':
        h.give(o.n);
        break;
      case 'time':
        await h.clock.advanceAsync(o.ms);
        break;
      case 'drop':
        h.sim.closeWatches();
        break;
      case 'gone':
        h.sim.compact();
        h.sim.expireWatches();
        break;
      case 'errors':
        h.sim.setModes({ errors: { status: 500, times: o.times } });
        h.sim.closeWatches();
        break;
    }
    await flush(2);
  }
  await h.settleAndCheck();
}

describe('a sharded watcher against a model', () => {
  it('holds exactly the in-range objects at their latest versions after any reshards, writes and failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        async (ops, startMask, watchList, pageSize) => {
          await run(ops, startMask, watchList, pageSize);
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 400) },
    );
  }, 120_000);
});

describe('a sharded watcher: directed', () => {
  it('a live DELETED of a range lost before it was taken still reaches the consumer (as a tombstone)', async () => {
    const h = harness(15);
    h.give(1000);
    await h.clock.advanceAsync(1000);
    h.give(-(1000 - 7)); // the 6 objects and SYNCED taken; no credit left
    expect(h.held.size).toBe(6);
    const x = h.sim.get('configmaps', 'ns/a');
    const quarter = QUARTERS.findIndex((q) => inRanges(x?.metadata.uid, q));
    // One chunk: b changed, a deleted. The consumer takes b only.
    h.sim.update('configmaps', 'ns/b', { data: { v: 'x' } });
    h.sim.delete('configmaps', 'ns/a');
    h.give(1);
    await h.clock.advanceAsync(100);
    expect(h.held.get('b')).toBe(h.sim.get('configmaps', 'ns/b')?.metadata.resourceVersion);
    // a's range is lost while its DELETED waits to be taken.
    h.shard.move(rangesOf(15 & ~(1 << quarter)));
    await h.settleAndCheck();
  });

  it('an object withheld at take time is delivered when its range comes back before the sync of its loss', async () => {
    // The initial WatchList events wait in one batch; the consumer takes one, the shard empties, the rest are
    // withheld, the shard takes back a quarter before any sync ran: its withheld objects come in that sync.
    await run(
      [
        { op: 'take', n: 1 },
        { op: 'move', mask: 0 },
        { op: 'take', n: 1 },
        { op: 'move', mask: 1 },
      ],
      3,
      true,
      1,
    );
  });
});

describe('a sharded informer against a model', () => {
  it('its Store, and a second one of the same ring sharing the watch, hold exactly the in-range objects', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        async (ops, startMask, watchList, pageSize) => {
          const { clock, sim } = world();
          for (const name of NAMES.slice(0, 6)) sim.create('configmaps', { metadata: { name, namespace: 'ns' } });
          const shard = new MovableShard(rangesOf(startMask));
          const informers = new InformerFactory({ transport: sim, clock, shard, watcherOptions: { watchList, pageSize } });
          const store = informers.store(ConfigMap, { namespace: 'ns' });
          const again = informers.store(ConfigMap, { namespace: 'ns' });
          const whole = informers.store(ConfigMap, { namespace: 'ns', shard: null });
          let version = 0;
          for (const o of ops) {
            if (o.op === 'move') shard.move(rangesOf(o.mask));
            else if (o.op === 'write') {
              const key = `ns/${o.name}`;
              version += 1;
              if (!sim.get('configmaps', key)) sim.create('configmaps', { metadata: { name: o.name, namespace: 'ns' } });
              else if (version % 3 === 0) sim.delete('configmaps', key);
              else sim.update('configmaps', key, { data: { v: String(version) } });
              continue;
            } else if (o.op === 'time') await clock.advanceAsync(o.ms);
            else if (o.op === 'drop') sim.closeWatches();
            else if (o.op === 'gone') {
              sim.compact();
              sim.expireWatches();
            } else if (o.op === 'errors') {
              sim.setModes({ errors: { status: 500, times: o.times } });
              sim.closeWatches();
            }
            await flush(2);
          }
          for (let i = 0; i < 8; i++) await clock.advanceAsync(30_000);
          const versions = (list: { metadata?: { name?: string; resourceVersion?: string } }[]) =>
            Object.fromEntries(list.map((o) => [o.metadata?.name, o.metadata?.resourceVersion]).sort());
          const all = sim.objects('configmaps', 'ns');
          const expected = versions(all.filter((o) => inRanges(o.metadata.uid, shard.ranges())));
          expect(versions(store.list())).toEqual(expected);
          expect(versions(again.list())).toEqual(expected);
          expect(versions(whole.list())).toEqual(versions(all));
          expect(informers.watches().length).toBe(2);
          informers.stop();
          await clock.advanceAsync(0);
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  }, 120_000);
});
