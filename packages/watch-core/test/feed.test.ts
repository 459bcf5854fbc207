// Feed: one subscriber's bounded queue — overflow into a catch-up, the catch-up built from the source, the end
// (with and without an error), wake(), and iteration with a signal. Pure logic, driven by hand.
import { getEventListeners } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type CatchUp, Feed } from '../src/informers/feed.ts';

const NONE = Symbol('nothing yet');
/** The next result of `it` if it settles within a few turns, else NONE (the pull stays pending). */
async function soon<T>(p: Promise<T>): Promise<T | typeof NONE> {
  let result: T | typeof NONE = NONE;
  void p.then(
    (r) => {
      result = r;
    },
    () => undefined,
  );
  for (let i = 0; i < 5; i++) await turn();
  return result;
}
const value = <T>(v: T) => ({ done: false, value: v });
const DONE = { done: true, value: undefined };
/** The catch-up as plain entries (a Map passed to the builder is the feed's own, changed later). */
const entries = (c: CatchUp<string>) => (c === 'full' ? 'full' : [...c.entries()]);

function setup(bound: number, startFull = false) {
  const built: Array<'full' | Array<[string, string | undefined]>> = [];
  let next: (c: CatchUp<string>) => string[] | undefined = () => [];
  const build = vi.fn((c: CatchUp<string>) => {
    built.push(entries(c));
    return next(c);
  });
  const taken: string[] = [];
  const feed = new Feed<string, string>(bound, build, startFull, (item) => taken.push(item));
  return {
    feed,
    build,
    built,
    taken,
    answer: (fn: (c: CatchUp<string>) => string[] | undefined) => {
      next = fn;
    },
  };
}

describe('Feed: the queue', () => {
  it('hands out pushed items in order; depth counts what is not taken; onTake sees each as it is taken', async () => {
    const { feed, build, taken } = setup(10);
    feed.push('a', 'k1', undefined);
    feed.push('b', 'k2', undefined);
    feed.push('m', undefined, undefined); // a marker
    expect(feed.depth).toBe(3);
    const it = feed.iterate();
    expect(taken).toEqual([]);
    expect(await it.next()).toEqual(value('a'));
    expect(taken).toEqual(['a']);
    expect(feed.depth).toBe(2);
    expect(await it.next()).toEqual(value('b'));
    expect(await it.next()).toEqual(value('m'));
    expect(feed.depth).toBe(0);
    expect(taken).toEqual(['a', 'b', 'm']);
    expect(build).not.toHaveBeenCalled();
    expect(feed.overflows).toBe(0);
  });

  it('a pull with nothing queued waits; a push wakes it; wake() alone does not invent an item', async () => {
    const { feed } = setup(10);
    const it = feed.iterate();
    const pending = it.next();
    expect(await soon(pending)).toBe(NONE);
    feed.wake();
    expect(await soon(pending)).toBe(NONE);
    feed.push('x', 'k', undefined);
    expect(await soon(pending)).toEqual(value('x'));
  });

  it('bound items fit; one more overflows: the queue is dropped for a catch-up of the first before of each key', async () => {
    const { feed, built, answer } = setup(3);
    feed.push('a1', 'a', undefined);
    feed.push('b1', 'b', 'b0');
    feed.push('a2', 'a', 'a1');
    expect(feed.depth).toBe(3);
    expect(feed.overflows).toBe(0);
    feed.push('m', undefined, undefined); // a marker: dropped, never in the catch-up
    expect(feed.depth).toBe(0);
    expect(feed.overflows).toBe(1);
    answer(() => ['A', 'B']);
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('A'));
    // What the subscriber held before the first dropped change of each key, in the order they came.
    expect(built).toEqual([
      [
        ['a', undefined],
        ['b', 'b0'],
      ],
    ]);
    expect(await it.next()).toEqual(value('B'));
  });

  it('after an overflow, changes join the catch-up (the first before of a key wins) and are not queued', async () => {
    const { feed, built, taken, answer } = setup(1);
    feed.push('a1', 'a', 'a0');
    feed.push('b1', 'b', 'b0'); // overflow
    feed.push('a2', 'a', 'a1'); // a is already there: its before stays a0
    feed.push('c1', 'c', undefined); // a new key, held nothing
    feed.push('d1', 'd', 'd0');
    feed.push('m', undefined, undefined); // a marker: nothing to catch up on
    expect(feed.depth).toBe(0);
    expect(feed.overflows).toBe(1);
    answer(() => ['CATCH-UP']);
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('CATCH-UP'));
    expect(built).toEqual([
      [
        ['a', 'a0'],
        ['b', 'b0'],
        ['c', undefined],
        ['d', 'd0'],
      ],
    ]);
    // Caught up: live again, and the next change is queued, not another catch-up.
    feed.push('a3', 'a', 'a2');
    expect(feed.depth).toBe(1);
    expect(await it.next()).toEqual(value('a3'));
    expect(built).toHaveLength(1);
    expect(taken).toEqual(['CATCH-UP', 'a3']);
  });

  it('items already taken are not caught up on; only the dropped ones are', async () => {
    const { feed, built, answer } = setup(2);
    answer(() => ['C']);
    feed.push('a1', 'a', undefined);
    feed.push('b1', 'b', undefined);
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('a1'));
    feed.push('c1', 'c', undefined);
    feed.push('d1', 'd', undefined); // 3 queued > 2
    expect(feed.overflows).toBe(1);
    expect(await it.next()).toEqual(value('C'));
    expect(built).toEqual([
      [
        ['b', undefined],
        ['c', undefined],
        ['d', undefined],
      ],
    ]);
  });

  it('keeps keys and befores with their items when it compacts a long-consumed queue', async () => {
    const { feed, built, answer } = setup(5000);
    answer(() => ['C']);
    for (let i = 0; i < 3000; i++) feed.push(`v${i}`, `k${i}`, `before${i}`);
    const it = feed.iterate();
    for (let i = 0; i < 1600; i++) expect(await it.next()).toEqual(value(`v${i}`)); // compacts past 1024 taken
    expect(feed.depth).toBe(1400);
    for (let j = 0; j < 3601; j++) feed.push(`n${j}`, `n${j}`, undefined); // 5001 queued: overflow
    expect(feed.overflows).toBe(1);
    expect(await it.next()).toEqual(value('C'));
    const caught = new Map(built[0] as Array<[string, string | undefined]>);
    expect(caught.size).toBe(1400 + 3601);
    expect(caught.has('k1599')).toBe(false);
    expect(caught.get('k1600')).toBe('before1600');
    expect(caught.get('k2999')).toBe('before2999');
  });

  it('counts every overflow', async () => {
    const { feed, answer } = setup(1);
    answer(() => ['C']);
    const it = feed.iterate();
    feed.push('a', 'a', undefined);
    feed.push('b', 'b', undefined);
    expect(await it.next()).toEqual(value('C'));
    feed.push('c', 'c', undefined);
    feed.push('d', 'd', undefined);
    expect(feed.overflows).toBe(2);
  });
});

describe('Feed: catch-up', () => {
  it("startFull: the first pull gets everything from build('full'); pushes before it are not queued", async () => {
    const { feed, built, taken, answer } = setup(10, true);
    feed.push('x', 'k', undefined);
    expect(feed.depth).toBe(0);
    answer(() => ['A', 'B']);
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('A'));
    expect(await it.next()).toEqual(value('B'));
    expect(built).toEqual(['full']);
    feed.push('y', 'k', 'B');
    expect(await it.next()).toEqual(value('y'));
    expect(taken).toEqual(['A', 'B', 'y']);
  });

  it('a builder that cannot say now is asked again after wake(), with the changes that came meanwhile', async () => {
    const { feed, build, built, answer } = setup(1);
    feed.push('a1', 'a', 'a0');
    feed.push('b1', 'b', 'b0'); // overflow
    answer(() => undefined); // a resync is being applied
    const it = feed.iterate();
    const pending = it.next();
    expect(await soon(pending)).toBe(NONE);
    expect(build).toHaveBeenCalledTimes(1);
    feed.push('c1', 'c', 'c0'); // joins the catch-up; not queued
    expect(feed.depth).toBe(0);
    expect(await soon(pending)).toBe(NONE);
    answer(() => ['CAUGHT-UP']);
    feed.wake();
    expect(await soon(pending)).toEqual(value('CAUGHT-UP'));
    expect(built[1]).toEqual([
      ['a', 'a0'],
      ['b', 'b0'],
      ['c', 'c0'],
    ]);
  });

  it('an empty catch-up is done with: the pull then waits for live changes', async () => {
    const { feed, build } = setup(10, true);
    const it = feed.iterate();
    const pending = it.next();
    expect(await soon(pending)).toBe(NONE);
    feed.push('x', 'k', undefined);
    expect(await soon(pending)).toEqual(value('x'));
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('an ended feed hands out what is queued but no longer builds a pending catch-up', async () => {
    const { feed, build } = setup(1);
    feed.push('a', 'a', undefined);
    feed.push('b', 'b', undefined); // overflow
    feed.end();
    expect(await feed.iterate().next()).toEqual(DONE);
    expect(build).not.toHaveBeenCalled();
  });

  it('converges with the source: nothing lost, nothing twice, every change applies to what the subscriber held', async () => {
    // A model: the source maps keys to versions; an item is { key, old, now } and the subscriber checks `old`.
    type Item = { key: string; old: number | undefined; now: number | undefined };
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 30; run++) {
      const truth = new Map<string, number>();
      let version = 0;
      for (let k = 0; k < 3; k++) truth.set(`k${k}`, ++version);
      const build = (c: CatchUp<number>): Item[] => {
        const keys: Iterable<[string, number | undefined]> = c === 'full' ? [...truth.keys()].map((k) => [k, undefined]) : c;
        const out: Item[] = [];
        for (const [key, old] of keys) if (old !== truth.get(key)) out.push({ key, old, now: truth.get(key) });
        return out;
      };
      const bound = 1 + Math.floor(random() * 4);
      const feed = new Feed<Item, number>(bound, build, true);
      const view = new Map<string, number>();
      const it = feed.iterate();
      let pending: Promise<IteratorResult<Item, void>> | undefined;
      const take = async (): Promise<boolean> => {
        pending ??= it.next();
        const got = await soon(pending);
        if (got === NONE) return false;
        pending = undefined;
        const item = (got as IteratorResult<Item, void>).value as Item;
        expect(view.get(item.key), `run ${run}: ${item.key} applied to what the subscriber held`).toBe(item.old);
        if (item.now === undefined) view.delete(item.key);
        else view.set(item.key, item.now);
        return true;
      };
      for (let op = 0; op < 120; op++) {
        if (random() < 0.55) {
          const key = `k${Math.floor(random() * 6)}`;
          const old = truth.get(key);
          const now = random() < 0.25 ? undefined : ++version;
          if (now === undefined) truth.delete(key);
          else truth.set(key, now);
          if (old !== now) feed.push({ key, old, now }, key, old);
        } else await take();
      }
      while (await take()) {}
      expect(Object.fromEntries(view), `run ${run} (bound ${bound})`).toEqual(Object.fromEntries(truth));
    }
  });
});

describe('Feed: the end', () => {
  it('end(): what is queued first, then done; pushes after it are ignored', async () => {
    const { feed, taken } = setup(10);
    feed.push('a', 'a', undefined);
    feed.push('b', 'b', undefined);
    feed.end();
    feed.push('c', 'c', undefined);
    expect(feed.depth).toBe(2);
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('a'));
    expect(await it.next()).toEqual(value('b'));
    expect(await it.next()).toEqual(DONE);
    expect(taken).toEqual(['a', 'b']);
  });

  it('end(error): what is queued first, then the iteration rejects with that error; the first end wins', async () => {
    const error = new Error('forbidden');
    const { feed } = setup(10);
    feed.push('a', 'a', undefined);
    feed.end(error);
    feed.end(new Error('later'));
    feed.end();
    const it = feed.iterate();
    expect(await it.next()).toEqual(value('a'));
    await expect(it.next()).rejects.toBe(error);

    const other = setup(10).feed;
    other.end();
    other.end(new Error('later'));
    expect(await other.iterate().next()).toEqual(DONE);
  });

  it('end() and end(error) wake a pending pull', async () => {
    const { feed } = setup(10);
    const pending = feed.iterate().next();
    expect(await soon(pending)).toBe(NONE);
    feed.end();
    expect(await soon(pending)).toEqual(DONE);

    const failing = setup(10).feed;
    const rejected = failing.iterate().next();
    const caught = rejected.catch((e: unknown) => e);
    expect(await soon(caught)).toBe(NONE);
    const error = new Error('gone for good');
    failing.end(error);
    expect(await soon(caught)).toBe(error);
  });
});

describe('Feed: iteration with a signal', () => {
  it('an abort ends a pending pull (done) and removes its listener', async () => {
    const { feed } = setup(10);
    const ac = new AbortController();
    const it = feed.iterate(ac.signal);
    const pending = it.next();
    expect(await soon(pending)).toBe(NONE);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    expect(await soon(pending)).toEqual(DONE);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a signal already aborted hands out nothing, not even what is queued', async () => {
    const { feed, taken } = setup(10);
    feed.push('a', 'a', undefined);
    expect(await feed.iterate(AbortSignal.abort()).next()).toEqual(DONE);
    expect(taken).toEqual([]);
    expect(feed.depth).toBe(1);
  });

  it('an abort between items: the next pull is done and the queued item is not taken', async () => {
    const { feed, taken } = setup(10);
    const ac = new AbortController();
    feed.push('a', 'a', undefined);
    feed.push('b', 'b', undefined);
    const it = feed.iterate(ac.signal);
    expect(await it.next()).toEqual(value('a'));
    ac.abort();
    expect(await it.next()).toEqual(DONE);
    expect(taken).toEqual(['a']);
  });

  it('an abort in the middle of a catch-up: the rest of it is not handed out', async () => {
    const { feed, taken, answer } = setup(10, true);
    answer(() => ['A', 'B', 'C']);
    const ac = new AbortController();
    const it = feed.iterate(ac.signal);
    expect(await it.next()).toEqual(value('A'));
    ac.abort();
    expect(await it.next()).toEqual(DONE);
    expect(taken).toEqual(['A']);
  });

  it("return() ends the iteration and removes the signal's listener", async () => {
    const { feed } = setup(10);
    const ac = new AbortController();
    feed.push('a', 'a', undefined);
    feed.push('b', 'b', undefined);
    const it = feed.iterate(ac.signal);
    expect(await it.next()).toEqual(value('a'));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    expect(await it.return()).toEqual(DONE);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(await it.next()).toEqual(DONE);
  });
});
