// The one stream primitive behind every kwatch stream: return()/throw()/abort end it at once and free what it holds.

/** How a {@link LiveStream} is made: its producer, started on the first pull, and what to free when it ends. */
export interface LiveStreamSource<T, R = T> {
  /**
   * Starts the producer on the first `next()`: an async iterator of items, or of batches of them with
   * `batches: true` (handed out one per `next()` without another await). `signal` aborts when the consumer leaves
   * (`return()`, `throw()`, the stream's `signal`); every await of the producer must honour it.
   */
  start(signal: AbortSignal): AsyncIterator<R, void, undefined> | AsyncIterator<readonly R[], void, undefined>;
  /** The producer yields arrays of items. Default: `false`. */
  batches?: boolean;
  /**
   * Called for an item at the moment it is handed to the consumer — never for one produced after the consumer left —
   * so that "taken" means delivered (a watcher commits its position here). Returns what to deliver, or `undefined` to
   * skip the item; a throw rejects that `next()` and ends the stream. Default: the item itself.
   */
  take?(item: R): T | undefined;
  /**
   * Called exactly once when the stream ends, however it ends — also when it was never pulled — after the
   * producer (if started) has finished. For what was acquired when the stream was created (a subscription).
   */
  close?(): void;
  /** Ends the stream as `return()` does when it aborts (before or after the first pull). */
  signal?: AbortSignal | undefined;
}

type Waiter<T> = { resolve: (r: IteratorResult<T, void>) => void; reject: (err: unknown) => void };
const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });
/** "The buffer has nothing to hand out" (no wrapper object per item on the hot path). */
const NONE: unique symbol = Symbol('none');

/**
 * An async iterator that cannot hang its consumer or leak its producer, whatever the consumer does:
 *
 * - `return()` (a `break`, `await using`, an iterator helper, a `Promise.race` timeout) and `throw()` end it at once —
 *   before the first pull (the producer never starts), while a `next()` is pending (that `next()` settles done), or
 *   between pulls — and resolve once the producer has run its `finally`, which the abort makes prompt;
 * - an aborted `signal` ends it the same way;
 * - an item is taken (`take`) only when it is handed out: one produced after the consumer left is never taken;
 * - `next()` calls made while one is pending are queued, as an async generator's are;
 * - after the end, `next()` is done and `return()` resolves at once.
 *
 * @example
 * ```ts
 * const s = new LiveStream({ start: (signal) => produce(signal), close: () => unsubscribe() });
 * for await (const x of s) if (x === 'enough') break; // produce()'s finally has run, unsubscribe() too
 * ```
 */
export class LiveStream<T, R = T> implements AsyncGenerator<T, void, undefined>, AsyncDisposable {
  readonly #source: LiveStreamSource<T, R>;
  readonly #controller = new AbortController();
  #producer: AsyncIterator<unknown, void, undefined> | undefined;
  /** Produced, not yet handed out. */
  #buffer: readonly R[] = [];
  #at = 0;
  /** Consumers waiting, oldest first; the first one is served by the pull in flight. */
  readonly #waiting: Waiter<T>[] = [];
  #pulling = false;
  #ended = false;
  /** Settles when the producer has finished and `close()` has run; holds the error of the producer's `finally`. */
  #closed: Promise<{ error: unknown } | undefined> | undefined;
  #pull: Promise<void> | undefined;
  readonly #onAbort = (): void => void this.#end();

  constructor(source: LiveStreamSource<T, R>) {
    this.#source = source;
    const { signal } = source;
    if (signal?.aborted) void this.#end();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Aborted when the consumer has left. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  next(): Promise<IteratorResult<T, void>> {
    if (this.#ended) return Promise.resolve(DONE);
    if (this.#waiting.length === 0) {
      // Fast path: an item already produced is handed out without another await.
      try {
        const item = this.#fromBuffer();
        if (item !== NONE) return Promise.resolve({ done: false, value: item });
      } catch (err) {
        void this.#end();
        return Promise.reject(err);
      }
      if (this.#ended) return Promise.resolve(DONE);
    }
    return new Promise<IteratorResult<T, void>>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#pulling) this.#pull = this.#serve();
    });
  }

  /** Ends the stream; rejects only when the producer's own `finally` failed (a resume store that cannot save). */
  return(): Promise<IteratorResult<T, void>> {
    return this.#end().then((failed) => (failed ? Promise.reject(failed.error) : DONE));
  }

  throw(err?: unknown): Promise<IteratorResult<T, void>> {
    return this.#end().then(() => Promise.reject(err));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** The next deliverable item of the buffer (taken), or NONE when it has none. Throws what `take` throws. */
  #fromBuffer(): T | typeof NONE {
    const take = this.#source.take;
    while (this.#at < this.#buffer.length) {
      const raw = this.#buffer[this.#at] as R;
      this.#at += 1;
      const value = take ? take(raw) : (raw as unknown as T);
      if (value !== undefined) return value;
      if (this.#ended) return NONE;
    }
    return NONE;
  }

  /** Serves the waiting consumers in order, pulling the producer as needed; one at a time. */
  async #serve(): Promise<void> {
    this.#pulling = true;
    try {
      while (this.#waiting.length > 0 && !this.#ended) {
        const item = this.#fromBuffer();
        if (item !== NONE) {
          this.#waiting.shift()?.resolve({ done: false, value: item });
          continue;
        }
        if (this.#ended) return;
        this.#producer ??= this.#source.start(this.#controller.signal) as AsyncIterator<unknown, void, undefined>;
        const result = await this.#producer.next();
        if (this.#ended) return; // the consumer left meanwhile: what came is not taken
        if (result.done) {
          for (const w of this.#waiting.splice(0)) w.resolve(DONE);
          void this.#end(); // not awaited: the end waits for this very pull
          return;
        }
        this.#buffer = this.#source.batches ? (result.value as readonly R[]) : [result.value as R];
        this.#at = 0;
      }
    } catch (err) {
      if (this.#ended) return; // an error after the consumer left (its abort) is not theirs
      const first = this.#waiting.shift();
      for (const w of this.#waiting.splice(0)) w.resolve(DONE);
      void this.#end();
      first?.reject(err);
    } finally {
      this.#pulling = false;
    }
  }

  /** Ends the stream once: settles every waiting `next()` done, aborts the producer, waits for its `finally`. */
  #end(): Promise<{ error: unknown } | undefined> {
    if (this.#closed) return this.#closed;
    this.#ended = true;
    this.#source.signal?.removeEventListener('abort', this.#onAbort);
    for (const w of this.#waiting.splice(0)) w.resolve(DONE);
    this.#buffer = [];
    this.#controller.abort();
    const producer = this.#producer;
    const pull = this.#pull;
    this.#closed = (async () => {
      try {
        // A producer suspended in an await finishes it (the abort makes that prompt) before return() can run.
        if (pull) await pull;
        if (producer?.return) await producer.return();
        return undefined;
      } catch (error) {
        return { error };
      } finally {
        this.#source.close?.();
      }
    })();
    return this.#closed;
  }
}
