// The harness of contract.property.test.ts: a manual-clock scheduler, a consumer that pulls one item at a
// time like `for await`, and the bookkeeping of the loss-free contract (views, duplicates, order, requests).
import { setImmediate as turn } from 'node:timers/promises';
import { ManualClock, type SimRequest, SimulatedApiServer, type SimulatedApiServerOptions } from '@kwatch/testenv';
import { apiErrorFrom } from '../src/index.ts';

/** What the harness reads of an event or a marker (the public API, loosely typed). */
export interface AnyItem {
  readonly type: string;
  readonly object?: { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } };
  readonly synthetic?: boolean;
  readonly watcher?: unknown;
  readonly reason?: { code?: string };
}

/** Lets every pending promise, microtask and immediate of the watcher run (no simulated time passes). */
export async function settle(turns = 6): Promise<void> {
  for (let i = 0; i < turns; i++) await turn();
}

/** A seeded PRNG (mulberry32): the watcher's backoff jitter uses Math.random, which a run replaces with this. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One simulated world: the clock, the server, the trace of what happened, and the contract violations found. */
export class World {
  readonly clock = new ManualClock();
  readonly sim: SimulatedApiServer;
  readonly t0: number;
  readonly trace: string[] = [];
  readonly violations: string[] = [];

  constructor(options: Omit<SimulatedApiServerOptions, 'clock' | 'errorFactory'> = {}) {
    this.sim = new SimulatedApiServer({ bookmarkIntervalMs: 5_000, ...options, clock: this.clock, errorFactory: apiErrorFrom });
    this.t0 = this.clock.now();
  }

  /** Seconds since the run started. */
  get elapsed(): number {
    return (this.clock.now() - this.t0) / 1000;
  }

  log(line: string): void {
    this.trace.push(`${this.elapsed.toFixed(3)}s ${line}`);
    if (this.trace.length > 400) this.trace.splice(0, this.trace.length - 400);
  }

  violate(what: string): void {
    this.log(`VIOLATION ${what}`);
    this.violations.push(what);
  }

  /** Moves the clock to `ms` from now, letting the watcher run at every timer on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    for (let i = 0, at = this.clock.now(); ; i++) {
      await settle();
      const next = this.clock.nextTimerAt();
      if (next === undefined || next > until) break;
      this.clock.runNext();
      if (this.clock.now() !== at) [i, at] = [0, this.clock.now()];
      else if (i > 2_000) {
        this.violate('livelock: timers fire without simulated time passing');
        break;
      }
    }
    this.clock.advanceTo(until);
    await settle();
  }

  /** Fails the run with the violations, the trace and the requests (the replay hint is fast-check's seed/path). */
  assertNoViolation(extra = ''): void {
    if (this.violations.length === 0) return;
    const requests = this.sim.requests
      .slice(-40)
      .map(
        (r) =>
          `  ${((r.at - this.t0) / 1000).toFixed(3)}s ${r.kind} ${r.path} ${new URLSearchParams(r.query)} → ${r.status} ${r.note ?? ''}`,
      );
    throw new Error(
      [
        `${this.violations.length} contract violation(s): ${[...new Set(this.violations)].slice(0, 8).join(' | ')}`,
        extra,
        'trace (last 400 lines):',
        ...this.trace.map((l) => `  ${l}`),
        `requests (last 40 of ${this.sim.requests.length}):`,
        ...requests,
      ].join('\n'),
    );
  }
}

/** The consumer's side of one watcher instance, across all its streams. */
export class Track {
  /** key → uid and resourceVersion, from applying every delivered event. */
  readonly view = new Map<string, { uid: string; rv: number }>();
  readonly #delivered = new Set<string>();
  readonly #lastRv = new Map<string, number>();
  #inResync = false;
  readonly name: string;
  readonly world: World;

  constructor(world: World, name: string) {
    this.world = world;
    this.name = name;
  }

  /** A new stream of this watcher starts: an unfinished resync window does not carry over. */
  streamStarted(): void {
    this.#inResync = false;
  }

  /** Checks one delivered item against the contract and applies it to the view. */
  deliver(item: AnyItem): void {
    const w = this.world;
    if (item.type === 'RESYNC' || item.type === 'SYNCED') {
      this.#inResync = item.type === 'RESYNC';
      w.log(`${this.name} ← ${item.type}${item.reason?.code ? ` (${item.reason.code})` : ''}`);
      return;
    }
    const meta = item.object?.metadata ?? {};
    const key = `${meta.namespace ?? ''}/${meta.name ?? ''}`;
    const rv = Number(meta.resourceVersion);
    w.log(`${this.name} ← ${item.type} ${key}@${meta.resourceVersion}${item.synthetic ? '*' : ''}`);
    const id = `${key}@${rv}`;
    if ((item as { tombstone?: boolean }).tombstone) {
      // A tombstone is a deletion found by a sync: it names the version the consumer holds, once.
      const held = this.view.get(key);
      if (!held) w.violate(`${this.name}: tombstone for ${key}, which the consumer does not hold`);
      else if (held.uid !== (meta.uid ?? '') || held.rv !== rv)
        w.violate(`${this.name}: tombstone for ${key}@${rv} (${meta.uid}), the consumer holds ${held.rv} (${held.uid})`);
      this.view.delete(key);
      return;
    }
    if (!this.#inResync) {
      if (this.#delivered.has(id)) w.violate(`${this.name}: ${id} delivered twice`);
      const last = this.#lastRv.get(key);
      if (last !== undefined && rv <= last) w.violate(`${this.name}: ${key} went from resourceVersion ${last} to ${rv}`);
    }
    this.#delivered.add(id);
    this.#lastRv.set(key, Math.max(rv, this.#lastRv.get(key) ?? 0));
    if (item.type === 'DELETED') this.view.delete(key);
    else this.view.set(key, { uid: meta.uid ?? '', rv });
  }

  /** The differences between the view and the server's objects of `resource` in `namespace`. */
  diff(resource: string, namespace: string | undefined): string[] {
    const expected = new Map(
      this.world.sim
        .objects(resource, namespace)
        .map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, `${o.metadata.uid}@${o.metadata.resourceVersion}`]),
    );
    const out: string[] = [];
    for (const [key, want] of expected) {
      const got = this.view.get(key);
      if (!got) out.push(`${key}: missing (server has ${want})`);
      else if (`${got.uid}@${got.rv}` !== want) out.push(`${key}: view has ${got.uid}@${got.rv}, server ${want}`);
    }
    for (const key of this.view.keys()) if (!expected.has(key)) out.push(`${key}: in the view, deleted on the server`);
    return out;
  }
}

type PullResult = 'item' | 'done' | 'error' | 'quiet';

/** Pulls a stream one item at a time, as `for await` does; a pull may stay pending across actions. */
export class Consumer {
  readonly world: World;
  readonly #open: () => AsyncGenerator<AnyItem, void, undefined>;
  readonly #onItem: (item: AnyItem) => void;
  readonly #onStart: () => void;
  iterator: AsyncGenerator<AnyItem, void, undefined> | undefined;
  #pending: { settled: boolean; result?: IteratorResult<AnyItem, void>; error?: unknown } | undefined;
  error: unknown;

  constructor(
    world: World,
    open: () => AsyncGenerator<AnyItem, void, undefined>,
    onItem: (i: AnyItem) => void,
    onStart: () => void,
  ) {
    this.world = world;
    this.#open = open;
    this.#onItem = onItem;
    this.#onStart = onStart;
  }

  get pending(): boolean {
    return this.#pending !== undefined;
  }

  /** Starts a pull without waiting for it (and a stream, when none is open). */
  prime(): { settled: boolean; result?: IteratorResult<AnyItem, void>; error?: unknown } {
    if (!this.iterator) {
      this.iterator = this.#open();
      this.#onStart();
    }
    if (!this.#pending) {
      const slot: { settled: boolean; result?: IteratorResult<AnyItem, void>; error?: unknown } = { settled: false };
      this.iterator.next().then(
        (r) => Object.assign(slot, { settled: true, result: r }),
        (e: unknown) => Object.assign(slot, { settled: true, error: e }),
      );
      this.#pending = slot;
    }
    return this.#pending;
  }

  /**
   * Pulls until one item arrives, the stream ends, or `quietMs` of simulated time pass without one
   * (advancing the clock timer by timer). Starts a new stream (on the same watcher) when none is open.
   */
  async pull(quietMs: number): Promise<PullResult> {
    const w = this.world;
    const slot = this.prime();
    const deadline = w.clock.now() + quietMs;
    for (let i = 0; ; i++) {
      await settle();
      if (slot.settled) return this.#take(slot);
      if (w.clock.now() >= deadline) return 'quiet';
      if (i > 5_000) {
        w.violate('livelock: timers fire without simulated time passing');
        return 'quiet';
      }
      const next = w.clock.nextTimerAt();
      if (next === undefined || next > deadline) w.clock.advanceTo(deadline);
      else w.clock.runNext();
    }
  }

  #take(slot: { result?: IteratorResult<AnyItem, void>; error?: unknown }): PullResult {
    this.#pending = undefined;
    if (slot.result === undefined) {
      this.error = slot.error;
      this.world.log(`stream failed: ${String(slot.error)}`);
      this.iterator = undefined;
      return 'error';
    }
    if (slot.result.done) {
      this.iterator = undefined;
      return 'done';
    }
    this.#onItem(slot.result.value);
    return 'item';
  }

  /** `break` out of the loop: with a pull pending (the loop is awaiting), `stop` is called first, as only it can end the wait. */
  async break(stop: () => void): Promise<void> {
    if (!this.iterator) return;
    if (this.#pending) {
      stop();
      const r = await this.pull(100);
      if (r === 'quiet') this.world.violate('stop() did not end a pending pull within 100 ms');
    }
    const it = this.iterator;
    this.iterator = undefined;
    this.#pending = undefined;
    // As `break` in `for await`: await return(), and nothing else, before the code after the loop runs.
    if (it) await it.return(undefined).catch(() => {});
  }

  /** `stop()` inside the loop (no pull pending), then the loop's next pull: it must end without an item. */
  async stopInLoop(stop: () => void): Promise<void> {
    if (!this.iterator || this.#pending) return;
    stop();
    const r = await this.pull(1_000);
    if (r === 'item') {
      this.world.violate('the loop saw an item after stop() was called inside it');
      await this.break(() => {});
      return;
    }
    if (r === 'quiet') this.world.violate('the stream did not end within 1 s of stop()');
    await this.break(() => {});
  }
}

/**
 * The request-rate contract (kwatch's PACING: a burst of 10, then 5 per second, per watcher, kept across
 * its streams whatever the consumer or the server does) for the requests of one resource: in every
 * 1-second window at most 15 that are not LIST continuation pages, and at most 10 + 5·T in all for a run
 * of T seconds. Only a replacement watcher (a new instance, with its own budget) allows more: 15 in its
 * window, 10 in all.
 */
export function checkRequestRate(world: World, requests: readonly SimRequest[], allowances: readonly number[]): void {
  const counted = requests.filter((r) => !('continue' in r.query));
  const times = counted.map((r) => r.at);
  for (let i = 0; i < times.length; i++) {
    const from = times[i]!;
    const inWindow = times.filter((t) => t >= from && t < from + 1000).length;
    const allowed = 15 + 15 * allowances.filter((t) => t >= from - 1000 && t < from + 1000).length;
    if (inWindow > allowed) {
      world.violate(`${inWindow} requests in the second from ${((from - world.t0) / 1000).toFixed(3)}s (at most ${allowed})`);
      break;
    }
  }
  const total = 10 + 5 * world.elapsed + 10 * allowances.length;
  if (counted.length > total) {
    world.violate(`${counted.length} requests in ${world.elapsed.toFixed(1)} s (at most ${total.toFixed(0)})`);
  }
  if (world.sim.runaway) world.violate(`the server saw ${world.sim.runaway.requests}+ requests at one instant (runaway)`);
}
