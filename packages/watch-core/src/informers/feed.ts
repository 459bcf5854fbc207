// A subscriber's bounded queue: what Store.events() and the factory's streams take from, never holding the producer.

/**
 * What a feed must catch up on: `'full'` (a subscriber that just joined: everything), or the keys
 * whose changes it dropped, each with what the subscriber held before them (`undefined`: nothing).
 */
export type CatchUp<B> = 'full' | ReadonlyMap<string, B | undefined>;

/**
 * Builds the items that bring a subscriber up to date from the source of truth (a store), or
 * `undefined` when the source cannot say now (a resync is being applied): the feed then waits for
 * {@link Feed.wake} and asks again.
 */
export type CatchUpBuilder<I, B> = (catchUp: CatchUp<B>) => I[] | undefined;

/**
 * One subscriber's bounded queue of changes, fed synchronously by a producer that must never wait
 * for it. When the queue would exceed its bound, the queued changes are dropped — never silently:
 * the feed remembers which keys they touched and what the subscriber held for each, and when the
 * subscriber pulls again it gets the difference between that and the source of truth now
 * ({@link CatchUpBuilder}), then the live changes again. So a slow subscriber costs at most `bound`
 * queued items, and its view still converges with nothing lost and nothing twice.
 *
 * Internal: used by `Store.events()` and `InformerFactory`.
 */
export class Feed<I, B> {
  readonly #bound: number;
  readonly #build: CatchUpBuilder<I, B>;
  #items: I[] = [];
  #keys: Array<string | undefined> = [];
  #befores: Array<B | undefined> = [];
  #head = 0;
  #catchUp: 'full' | Map<string, B | undefined> | undefined;
  #end: { error: unknown } | undefined;
  #wake: (() => void) | undefined;
  readonly #onTake: ((item: I) => void) | undefined;
  /** How many times the queue overflowed. */
  overflows = 0;

  /**
   * `startFull`: the subscriber holds nothing yet — its first pull gets everything from the source.
   * `onTake`: called with each item as the subscriber takes it (what it has really received).
   */
  constructor(bound: number, build: CatchUpBuilder<I, B>, startFull = false, onTake?: (item: I) => void) {
    this.#bound = bound;
    this.#build = build;
    this.#catchUp = startFull ? 'full' : undefined;
    this.#onTake = onTake;
  }

  /** Items queued and not taken. */
  get depth(): number {
    return this.#items.length - this.#head;
  }

  /** Queues one item about `key` (`undefined` for a marker); `before` is what the subscriber held for that key before it. */
  push(item: I, key: string | undefined, before: B | undefined): void {
    if (this.#end) return;
    const catchUp = this.#catchUp;
    if (catchUp === 'full') return; // everything will come from the source
    if (catchUp) {
      if (key !== undefined && !catchUp.has(key)) catchUp.set(key, before);
      return;
    }
    this.#items.push(item);
    this.#keys.push(key);
    this.#befores.push(before);
    if (this.depth > this.#bound) this.#overflow();
    this.wake();
  }

  /** Ends the feed after what is queued (with `error`, the iteration then rejects with it). */
  end(error?: unknown): void {
    this.#end ??= { error };
    this.wake();
  }

  /** Tells a waiting subscriber to look again (new items, or the source can now build a catch-up). */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The items, as the subscriber takes them; `signal` ends the iteration. */
  async *iterate(signal?: AbortSignal): AsyncGenerator<I, void, undefined> {
    const onAbort = (): void => this.wake();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (this.depth > 0) {
          const item = this.#shift();
          this.#onTake?.(item);
          yield item;
          continue;
        }
        if (this.#catchUp && !this.#end) {
          const batch = this.#build(this.#catchUp);
          if (batch) {
            this.#catchUp = undefined;
            for (const item of batch) {
              if (signal?.aborted) return;
              this.#onTake?.(item);
              yield item;
            }
            continue;
          }
        }
        if (this.#end) {
          if (this.#end.error !== undefined) throw this.#end.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #shift(): I {
    const item = this.#items[this.#head] as I;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#keys = [];
      this.#befores = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#keys = this.#keys.slice(this.#head);
      this.#befores = this.#befores.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #overflow(): void {
    this.overflows += 1;
    const catchUp = new Map<string, B | undefined>();
    for (let i = this.#head; i < this.#items.length; i++) {
      const key = this.#keys[i];
      if (key !== undefined && !catchUp.has(key)) catchUp.set(key, this.#befores[i]);
    }
    this.#catchUp = catchUp;
    this.#items = [];
    this.#keys = [];
    this.#befores = [];
    this.#head = 0;
  }
}
