// WorkQueue against a model on a manual clock: random adds, delays, failures, workers and shutdown; invariants each step.
import { ManualClock } from '@kwatch/testenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Priority, WorkQueue } from '../src/index.ts';

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const AGING = 50;
const BASE = 5;
const MAX = 400;
const QPS = 20;
const BURST = 3;

type Op =
  | { op: 'add'; key: string; priority: Priority }
  | { op: 'addAfter'; key: string; ms: number; priority: Priority }
  | { op: 'fail'; worker: number } // the worker's key failed: addRateLimited, then done
  | { op: 'succeed'; worker: number } // forget, then done
  | { op: 'requeue'; worker: number; ms: number } // forget, addAfter, then done (controller-runtime's RequeueAfter)
  | { op: 'advance'; ms: number }
  | { op: 'shutdown' };

const key = fc.constantFrom(...KEYS);
const priority = fc.constantFrom<Priority>('high', 'low');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), key, priority }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('addAfter' as const), key, ms: fc.integer({ min: -5, max: 120 }), priority }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fail' as const), worker: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('succeed' as const), worker: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('requeue' as const), worker: fc.nat(3), ms: fc.integer({ min: 1, max: 80 }) }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'shutdown' as const }) },
);

/** Lets promise callbacks (a getter resolved by an add or a timer) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/**
 * The model: per key, whether it wants to run (`want`: ready since, priority), whether it runs, its pending delayed
 * add (the earliest), its failures; the token bucket. It predicts what may start and checks what did.
 */
class Model {
  readonly want = new Map<string, { since: number; priority: Priority }>();
  readonly running = new Set<string>();
  readonly delayed = new Map<string, { at: number; priority: Priority }>();
  readonly failures = new Map<string, number>();
  readonly lastAdd = new Map<string, number>();
  readonly lastStart = new Map<string, number>();
  tokens = BURST;
  bucketAt: number | undefined;
  shutDown = false;
  starts = 0;

  add(k: string, p: Priority, now: number): void {
    if (this.shutDown) return;
    this.lastAdd.set(k, now);
    const w = this.want.get(k);
    if (w) {
      if (p === 'high') w.priority = 'high';
      return;
    }
    this.want.set(k, { since: now, priority: p });
  }

  addAfter(k: string, ms: number, p: Priority, now: number): void {
    if (this.shutDown) return;
    if (!(ms > 0)) {
      this.add(k, p, now);
      return;
    }
    const at = now + ms;
    const d = this.delayed.get(k);
    if (!d || at < d.at) this.delayed.set(k, { at, priority: p });
  }

  rateLimitedDelay(k: string, now: number): number {
    const n = this.failures.get(k) ?? 0;
    this.failures.set(k, n + 1);
    const item = Math.min(MAX, BASE * 2 ** n);
    if (this.bucketAt !== undefined && now > this.bucketAt)
      this.tokens = Math.min(BURST, this.tokens + ((now - this.bucketAt) * QPS) / 1000);
    if (this.bucketAt === undefined || now > this.bucketAt) this.bucketAt = now;
    this.tokens -= 1;
    const bucket = this.tokens >= 0 ? 0 : (-this.tokens * 1000) / QPS;
    return Math.max(item, bucket);
  }

  /** Delayed adds due by `now`, in time order (as the queue's timer fires them). */
  due(now: number): void {
    const ready = [...this.delayed].filter(([, d]) => d.at <= now).sort((x, y) => x[1].at - y[1].at);
    for (const [k, d] of ready) {
      this.delayed.delete(k);
      this.add(k, d.priority, d.at);
    }
  }

  /** Keys that want to run and are not running: what the queue's `length` must count. */
  waiting(): string[] {
    return [...this.want.keys()].filter((k) => !this.running.has(k));
  }

  /** Checks a start of `k` at `now` against every rule, and records it. */
  start(k: string, now: number): void {
    expect(this.shutDown, `start of ${k} after shutdown`).toBe(false);
    expect(this.running.has(k), `${k} started while running`).toBe(false);
    const w = this.want.get(k);
    expect(w, `${k} started without wanting to run (too early for its delay)`).toBeDefined();
    // Aging: a high key is never served while a low key has waited the bound.
    if (w?.priority === 'high') {
      for (const other of this.waiting()) {
        const o = this.want.get(other);
        if (o?.priority === 'low') expect(now - o.since, `low ${other} starved by high ${k}`).toBeLessThan(AGING);
      }
    }
    this.want.delete(k);
    this.running.add(k);
    this.lastStart.set(k, now);
    this.starts += 1;
  }

  done(k: string, now: number): void {
    this.running.delete(k);
    const w = this.want.get(k);
    if (w) w.since = now;
  }
}

async function runOps(ops: Op[]): Promise<void> {
  const clock = new ManualClock();
  const queue = new WorkQueue<string>({
    clock,
    agingMs: AGING,
    backoff: { baseMs: BASE, maxMs: MAX },
    bucket: { qps: QPS, burst: BURST },
  });
  const model = new Model();
  const workers: Array<string | undefined> = [undefined, undefined, undefined, undefined];
  const getting = [false, false, false, false];
  const failures: unknown[] = [];

  /** Every idle worker asks for a key; a key handed out is checked against the model as it starts. */
  const ask = (): void => {
    workers.forEach((held, i) => {
      if (held !== undefined || getting[i]) return;
      getting[i] = true;
      void queue.get().then((k) => {
        getting[i] = false;
        if (k === undefined) return;
        try {
          model.start(k, clock.now());
        } catch (err) {
          failures.push(err);
        }
        workers[i] = k;
      });
    });
  };
  const step = async (): Promise<void> => {
    model.due(clock.now()); // before the getters' callbacks run: the queue's timer fired synchronously
    ask();
    await settle();
    ask();
    await settle();
    if (failures.length > 0) throw failures[0];
    expect(queue.length, `length at ${clock.now()}: model waits on ${model.waiting().join()}`).toBe(
      model.shutDown ? queue.length : model.waiting().length,
    );
    expect(queue.running).toBe(model.running.size);
  };
  /** Worker `i` finishes its key; a getter the queue hands it to at once records its start before anything else. */
  const finish = async (i: number, then: (k: string) => void): Promise<void> => {
    const k = workers[i];
    if (k === undefined) return;
    workers[i] = undefined;
    then(k);
    queue.done(k);
    model.done(k, clock.now());
    await settle();
  };

  for (const o of ops) {
    const now = clock.now();
    switch (o.op) {
      case 'add':
        queue.add(o.key, o.priority);
        model.add(o.key, o.priority, now);
        break;
      case 'addAfter':
        queue.addAfter(o.key, o.ms, o.priority);
        model.addAfter(o.key, o.ms, o.priority, now);
        break;
      case 'fail':
        await finish(o.worker, (k) => {
          if (model.shutDown) {
            queue.addRateLimited(k);
            return;
          }
          const delay = model.rateLimitedDelay(k, now);
          queue.addRateLimited(k);
          model.addAfter(k, delay, 'high', now);
          expect(queue.failures(k)).toBe(model.failures.get(k));
        });
        break;
      case 'succeed':
        await finish(o.worker, (k) => {
          queue.forget(k);
          model.failures.delete(k);
        });
        break;
      case 'requeue':
        await finish(o.worker, (k) => {
          queue.forget(k);
          model.failures.delete(k);
          queue.addAfter(k, o.ms);
          model.addAfter(k, o.ms, 'high', now);
        });
        break;
      case 'advance': {
        // Step through the model's due times so that delayed adds happen in order, as the queue's timer fires them.
        const to = now + o.ms;
        for (;;) {
          const next = Math.min(...[...model.delayed.values()].map((d) => d.at), Number.POSITIVE_INFINITY);
          if (next > to) break;
          clock.advanceTo(next);
          await step();
        }
        clock.advanceTo(to);
        break;
      }
      case 'shutdown':
        queue.shutDown();
        model.shutDown = true;
        model.delayed.clear();
        break;
    }
    await step();
  }

  // Run to quiescence: workers keep finishing, time moves past every delay; then every add after a key's last start
  // (before shutdown) must have led to a later start.
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < workers.length; i++) await finish(i, (k) => queue.forget(k));
    const next = Math.min(...[...model.delayed.values()].map((d) => d.at), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) clock.advanceTo(Math.max(clock.now(), next));
    else clock.advance(AGING);
    await step();
    if (model.delayed.size === 0 && model.waiting().length === 0 && workers.every((w) => w === undefined)) break;
  }
  if (!model.shutDown) {
    for (const k of KEYS) {
      const added = model.lastAdd.get(k);
      if (added !== undefined)
        expect(model.lastStart.get(k) ?? -1, `${k} added at ${added}, never started after`).toBeGreaterThanOrEqual(added);
    }
    expect(queue.length).toBe(0);
  }
  const drained = queue.drain();
  queue.shutDown();
  for (let i = 0; i < workers.length; i++) await finish(i, () => {});
  await drained; // resolves once nothing runs
  expect(await queue.get()).toBeUndefined();
}

describe('WorkQueue (model-based, manual clock)', () => {
  it('never runs a key twice at once, queues a waiting key once, honours delays, backoff, the bucket and aging, and starts nothing after shutdown', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => runOps(ops)),
      { numRuns: 300 },
    );
  });

  it('a low key is served within the aging bound while high keys keep coming', async () => {
    const clock = new ManualClock();
    const queue = new WorkQueue<string>({ clock, agingMs: 100 });
    queue.add('initial', 'low');
    const served: string[] = [];
    for (let i = 0; i < 30; i++) {
      queue.add(`live-${i}`);
      const k = (await queue.get()) as string;
      served.push(k);
      clock.advance(10);
      queue.done(k);
    }
    const at = served.indexOf('initial');
    expect(at).toBeGreaterThan(0); // high first…
    expect(at).toBeLessThanOrEqual(11); // …but not past 100 ms of waiting (10 ms per reconcile)
  });

  it('a key added while it runs runs again once, after done(), never at the same time', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.length).toBe(0); // not handed out while running
    let second: string | undefined;
    void queue.get().then((k) => {
      second = k;
    });
    await settle();
    expect(second).toBeUndefined();
    queue.done(first as string);
    await settle();
    expect(second).toBe('a');
    expect(queue.length).toBe(0); // the two adds made one run
  });
});
