// WorkQueue: client-go's workqueue semantics (dirty, processing, delays, rate limits) with two priorities and aging.
import type { Clock } from '@kwatch/watch-core';
import { KwatchError, systemClock } from '@kwatch/watch-core';
import { ItemBackoff, TokenBucket } from './rateLimiter.ts';

/**
 * How soon a key is wanted: a live change (`high`) or the initial list and resyncs (`low`).
 *
 * @example
 * ```ts
 * queue.add('web/a', 'low'); // listed at start: after live changes, but never starved (see agingMs)
 * ```
 */
export type Priority = 'high' | 'low';

/**
 * Options of a {@link WorkQueue}.
 *
 * @example
 * ```ts
 * new WorkQueue<string>({ backoff: { baseMs: 10, maxMs: 60_000 }, bucket: { qps: 50, burst: 200 }, agingMs: 2_000 });
 * ```
 */
export interface WorkQueueOptions {
  /** Per-key backoff of {@link WorkQueue.addRateLimited}. Default: 5 ms doubling to 1,000,000 ms (client-go's). */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Overall token bucket of {@link WorkQueue.addRateLimited}; `false` for none. Default: 10 per second, burst 100. */
  readonly bucket?: { readonly qps?: number; readonly burst?: number } | false;
  /**
   * A `low` key that has waited this long (ms) is served before any `high` one, so that a stream of live changes
   * never starves the initial list. Default: `5000`.
   */
  readonly agingMs?: number;
  /** Testing seam: the clock of delays and aging. Default: the system clock. */
  readonly clock?: Clock;
  /** Told of what the queue does, for metrics (client-go's workqueue metrics). Default: none. */
  readonly observer?: QueueObserver;
}

/**
 * What a {@link WorkQueue} reports as it works, as client-go's `MetricsProvider` sees it: adds, the wait of each key
 * from its (first) add to its start, the duration of each run, and retries.
 *
 * @example
 * ```ts
 * new WorkQueue<string>({ observer: { added: () => adds++, started: (ms) => waits.push(ms), finished: () => {}, retried: () => {} } });
 * ```
 */
export interface QueueObserver {
  /** A key was added (also one already waiting: client-go counts every add). */
  added(): void;
  /** A key started after waiting `waitedMs` since it was queued. */
  started(waitedMs: number): void;
  /** A key's run ended after `workedMs`. */
  finished(workedMs: number): void;
  /** A key was re-added after a failure (`addRateLimited`). */
  retried(): void;
}

/** A key that wants processing: its priority, since when it is ready, and the token its queue entry must carry. */
interface Dirty {
  priority: Priority;
  since: number;
  token: number;
}

/** A delayed add: ready at `at`; `seq` orders equal times and tells a live heap entry from a replaced one. */
interface Delayed<K> {
  readonly key: K;
  readonly at: number;
  readonly priority: Priority;
  readonly seq: number;
}

/** A FIFO of queue entries (key and token) with O(1) shift. */
class Fifo<K> {
  #items: Array<{ key: K; token: number }> = [];
  #head = 0;

  push(key: K, token: number): void {
    this.#items.push({ key, token });
  }

  peek(): { key: K; token: number } | undefined {
    return this.#items[this.#head];
  }

  shift(): void {
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * The queue of a controller: keys to reconcile, with client-go's workqueue rules —
 *
 * - a key waiting to run is queued once however often it is added (`dirty`);
 * - a key is never handed out while it runs (`processing`); added meanwhile, it runs again after {@link done};
 * - {@link addAfter} runs a key later (the earliest of several delays wins); {@link addRateLimited} after a failure
 *   waits the longer of its own exponential backoff and the overall token bucket; {@link forget} resets the backoff;
 * - two priorities: `high` keys are served first, but a `low` key that has waited {@link WorkQueueOptions.agingMs}
 *   is served before them (an added `high` lifts a waiting `low` key);
 * - after {@link shutDown} nothing more is handed out; {@link drain} resolves when the running keys are done.
 *
 * @example
 * ```ts
 * const queue = new WorkQueue<string>();
 * queue.add('web/a');
 * const key = await queue.get(); // 'web/a'
 * try { await reconcile(key); queue.forget(key); } catch { queue.addRateLimited(key); } finally { queue.done(key); }
 * ```
 */
export class WorkQueue<K> {
  readonly #clock: Clock;
  readonly #observer: QueueObserver | undefined;
  /** When each running key started. */
  readonly #startedAt = new Map<K, number>();
  readonly #agingMs: number;
  readonly #backoff: ItemBackoff<K>;
  readonly #bucket: TokenBucket | undefined;
  readonly #dirty = new Map<K, Dirty>();
  readonly #processing = new Set<K>();
  readonly #high = new Fifo<K>();
  readonly #low = new Fifo<K>();
  /** Keys queued (not processing), for `length`. */
  #queued = 0;
  /** Delayed adds by key (the live one), and a min-heap of them by time (replaced ones skipped when they surface). */
  readonly #delayedByKey = new Map<K, Delayed<K>>();
  #heap: Delayed<K>[] = [];
  #timer: { handle: unknown; at: number } | undefined;
  #seq = 0;
  #token = 0;
  /** `get()` calls waiting for a key, oldest first. */
  readonly #getters: Array<(key: K | undefined) => void> = [];
  #shutDown = false;
  #drained: Array<() => void> = [];

  /** See {@link WorkQueueOptions} for each option's default; a bad one throws `INVALID_OPTION` naming it. */
  constructor(options: WorkQueueOptions = {}) {
    const positive = (name: string, value: number | undefined, zero = false): void => {
      if (value !== undefined && !(Number.isFinite(value) && (zero ? value >= 0 : value > 0)))
        throw new KwatchError(
          'INVALID_OPTION',
          `Expected \`${name}\` to be a ${zero ? 'non-negative' : 'positive'} number, got ${value}`,
        );
    };
    positive('agingMs', options.agingMs, true);
    positive('backoff.baseMs', options.backoff?.baseMs);
    positive('backoff.maxMs', options.backoff?.maxMs);
    if (options.bucket) {
      positive('bucket.qps', options.bucket.qps);
      positive('bucket.burst', options.bucket.burst);
    }
    this.#clock = options.clock ?? systemClock;
    this.#observer = options.observer;
    this.#agingMs = options.agingMs ?? 5000;
    this.#backoff = new ItemBackoff(options.backoff);
    this.#bucket = options.bucket === false ? undefined : new TokenBucket(options.bucket ?? {});
  }

  /** Keys waiting to be handed out (not counting those running or delayed). */
  get length(): number {
    return this.#queued;
  }

  /** Keys running (handed out, not yet {@link done}). */
  get running(): number {
    return this.#processing.size;
  }

  /** How long each running key has run so far, in ms (client-go's unfinished work and longest running processor). */
  runningFor(): number[] {
    const now = this.#clock.now();
    return [...this.#startedAt.values()].map((at) => now - at);
  }

  /** True once {@link shutDown} was called. */
  get isShutDown(): boolean {
    return this.#shutDown;
  }

  /**
   * Wants `key` processed. Queued once while it waits (a second add only raises its priority); while it runs, it
   * is queued again when it is {@link done}. Ignored after {@link shutDown}.
   */
  add(key: K, priority: Priority = 'high'): void {
    if (this.#shutDown) return;
    this.#observer?.added();
    const now = this.#clock.now();
    const dirty = this.#dirty.get(key);
    if (dirty) {
      if (priority === 'high' && dirty.priority === 'low') {
        dirty.priority = 'high';
        if (!this.#processing.has(key)) this.#enqueue(key, dirty);
      }
      return;
    }
    const fresh: Dirty = { priority, since: now, token: 0 };
    this.#dirty.set(key, fresh);
    if (this.#processing.has(key)) return; // queued again at done()
    this.#queued += 1;
    this.#enqueue(key, fresh);
  }

  /** Adds `key` after `delayMs` (at once when ≤ 0); of several delays of one key the earliest wins. */
  addAfter(key: K, delayMs: number, priority: Priority = 'high'): void {
    if (this.#shutDown) return;
    if (!(delayMs > 0)) {
      this.add(key, priority);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const current = this.#delayedByKey.get(key);
    if (current && current.at <= at) return;
    const entry: Delayed<K> = { key, at, priority, seq: this.#seq++ };
    this.#delayedByKey.set(key, entry);
    this.#heapPush(entry);
    this.#arm();
  }

  /** Adds `key` after a failure: after the longer of its backoff (which grows) and the token bucket's delay. */
  addRateLimited(key: K, priority: Priority = 'high'): void {
    if (this.#shutDown) return;
    this.#observer?.retried();
    const item = this.#backoff.when(key);
    const overall = this.#bucket ? this.#bucket.reserve(this.#clock.now()) : 0;
    this.addAfter(key, Math.max(item, overall), priority);
  }

  /** How many failures in a row {@link addRateLimited} has recorded for `key` since it was last forgotten. */
  failures(key: K): number {
    return this.#backoff.failures(key);
  }

  /** Forgets `key`'s failures: its next {@link addRateLimited} starts from the base delay again. */
  forget(key: K): void {
    this.#backoff.forget(key);
  }

  /**
   * The next key to process, once there is one: `high` keys first, except a `low` key that has waited the aging
   * bound. Resolves `undefined` once the queue is shut down (also a `get()` already waiting). A key handed out
   * is running until {@link done}.
   */
  get(): Promise<K | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    if (this.#getters.length === 0) {
      const key = this.#pop();
      if (key !== undefined) return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Ends the processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#observer?.finished(this.#clock.now() - started);
    const dirty = this.#dirty.get(key);
    if (dirty && !this.#shutDown) {
      dirty.since = this.#clock.now(); // it could not run before now
      this.#queued += 1;
      this.#enqueue(key, dirty);
    }
    if (this.#processing.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  /** Hands out nothing more: waiting and later `get()` calls resolve `undefined`, adds are ignored, delays dropped. */
  shutDown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
    this.#heap = [];
    this.#delayedByKey.clear();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  /** Resolves when no key is running (at once if none is). Use after {@link shutDown} to wait for in-flight work. */
  drain(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Puts `key` in its priority's FIFO under a new token (an older entry of it becomes stale), and serves a getter. */
  #enqueue(key: K, dirty: Dirty): void {
    dirty.token = ++this.#token;
    (dirty.priority === 'high' ? this.#high : this.#low).push(key, dirty.token);
    this.#serve();
  }

  /** Hands queued keys to waiting getters, oldest getter first. */
  #serve(): void {
    while (this.#getters.length > 0) {
      const key = this.#pop();
      if (key === undefined) return;
      this.#getters.shift()?.(key);
    }
  }

  /** Takes the next key to run (marks it processing), or undefined when none is queued. */
  #pop(): K | undefined {
    const low = this.#live(this.#low);
    const high = this.#live(this.#high);
    let from: Fifo<K> | undefined;
    if (low && (!high || this.#clock.now() - (this.#dirty.get(low.key) as Dirty).since >= this.#agingMs)) from = this.#low;
    else if (high) from = this.#high;
    if (!from) return undefined;
    const { key } = from.peek() as { key: K };
    from.shift();
    const now = this.#clock.now();
    const since = this.#dirty.get(key)?.since ?? now;
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#startedAt.set(key, now);
    this.#observer?.started(now - since);
    this.#queued -= 1;
    return key;
  }

  /** The first entry of `fifo` that is still its key's current one (stale ones are dropped). */
  #live(fifo: Fifo<K>): { key: K; token: number } | undefined {
    for (;;) {
      const head = fifo.peek();
      if (!head) return undefined;
      const dirty = this.#dirty.get(head.key);
      if (dirty && dirty.token === head.token && !this.#processing.has(head.key)) return head;
      fifo.shift();
    }
  }

  #heapPush(entry: Delayed<K>): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Delayed<K>, h[p] as Delayed<K>)) break;
      [h[i], h[p]] = [h[p] as Delayed<K>, h[i] as Delayed<K>];
      i = p;
    }
  }

  #heapPop(): Delayed<K> | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Delayed<K>, h[m] as Delayed<K>)) m = l;
        if (r < h.length && before(h[r] as Delayed<K>, h[m] as Delayed<K>)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Delayed<K>, h[i] as Delayed<K>];
        i = m;
      }
    }
    return top;
  }

  /** One timer, for the earliest live delayed add. */
  #arm(): void {
    while (this.#heap[0] && this.#delayedByKey.get(this.#heap[0].key) !== this.#heap[0]) this.#heapPop();
    const next = this.#heap[0];
    if (!next) return;
    if (this.#timer && this.#timer.at <= next.at) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer.handle);
    // At most a timer's range (2³¹−1 ms, about 24.8 days): past it Node fires at once; #fire then arms again.
    const handle = this.#clock.setTimeout(this.#fire, Math.min(MAX_TIMER_MS, Math.max(0, next.at - this.#clock.now())));
    this.#timer = { handle, at: next.at };
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (;;) {
      const next = this.#heap[0];
      if (!next || next.at > now) break;
      this.#heapPop();
      if (this.#delayedByKey.get(next.key) !== next) continue; // replaced by an earlier delay
      this.#delayedByKey.delete(next.key);
      this.add(next.key, next.priority);
    }
    this.#arm();
  };
}

/** The longest delay a timer takes (Node fires a longer one after 1 ms, with a warning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function before<K>(a: Delayed<K>, b: Delayed<K>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
