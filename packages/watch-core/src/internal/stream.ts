// The one stream primitive behind every kwatch stream: return()/throw()/abort end it at once and free what it holds.

/** How a {@link LiveStream} is made: its source, started on the first pull, and what to free when it ends. */
export interface LiveStreamSource<T> {
  /**
   * Starts the producer on the first `next()`. `signal` aborts when the consumer leaves (`return()`, `throw()`, the
   * stream's `signal`); every await of the producer must honour it, so that it ends promptly.
   */
  start(signal: AbortSignal): AsyncIterator<T, void, undefined>;
  /**
   * Called exactly once when the stream ends, however it ends — also when it was never pulled — after the
   * producer (if started) has finished. For what was acquired when the stream was created (a subscription).
   */
  close?(): void;
  /** Ends the stream as `return()` does when it aborts (before or after the first pull). */
  signal?: AbortSignal | undefined;
}

type Settle<T> = (r: IteratorResult<T, void>) => void;
const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/**
 * An async iterator that cannot hang its consumer or leak its producer, whatever the consumer does:
 *
 * - `return()` (a `break`, `await using`, an iterator helper, a `Promise.race` timeout) and `throw()` end it at once —
 *   before the first pull (the producer never starts), while a `next()` is pending (that `next()` settles done), or
 *   between pulls — and resolve once the producer has run its `finally`, which the abort makes prompt;
 * - an aborted `signal` ends it the same way;
 * - `next()` calls made while one is pending are queued, as an async generator's are;
 * - after the end, `next()` is done and `return()` resolves at once.
 *
 * @example
 * ```ts
 * const s = new LiveStream({ start: (signal) => produce(signal), close: () => unsubscribe() });
 * for await (const x of s) if (x === 'enough') break; // produce()'s finally has run, unsubscribe() too
 * ```
 */
export class LiveStream<T> implements AsyncGenerator<T, void, undefined>, AsyncDisposable {
  readonly #source: LiveStreamSource<T>;
  readonly #controller = new AbortController();
  #producer: AsyncIterator<T, void, undefined> | undefined;
  /** The producer's `next()` in flight, and the consumers waiting for it or after it. */
  #inFlight: Promise<unknown> | undefined;
  readonly #waiting: Settle<T>[] = [];
  #ended = false;
  #closed: Promise<void> | undefined;
  readonly #onAbort = (): void => void this.#end();

  constructor(source: LiveStreamSource<T>) {
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
    return new Promise<IteratorResult<T, void>>((resolve, reject) => {
      const run = async (): Promise<void> => {
        if (this.#ended) return resolve(DONE);
        this.#waiting.push(resolve);
        try {
          this.#producer ??= this.#source.start(this.#controller.signal);
          const result = await this.#producer.next();
          if (!this.#take(resolve)) return; // the stream ended meanwhile: that next() has settled done
          if (result.done) {
            resolve(DONE);
            void this.#end(); // not awaited: the end waits for this very pull to finish
          } else resolve(result);
        } catch (err) {
          if (!this.#take(resolve)) return;
          void this.#end();
          reject(err);
        }
      };
      const previous = this.#inFlight;
      const mine = previous ? previous.then(run, run) : run();
      this.#inFlight = mine;
    });
  }

  return(): Promise<IteratorResult<T, void>> {
    return this.#end().then(() => DONE);
  }

  throw(err?: unknown): Promise<IteratorResult<T, void>> {
    return this.#end().then(() => Promise.reject(err));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#end();
  }

  /** Removes `resolve` from the waiting consumers; false if the end already settled it. */
  #take(resolve: Settle<T>): boolean {
    const i = this.#waiting.indexOf(resolve);
    if (i < 0) return false;
    this.#waiting.splice(i, 1);
    return true;
  }

  /** Ends the stream once: settles every waiting `next()` done, aborts the producer, waits for its `finally`. */
  #end(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#ended = true;
    this.#source.signal?.removeEventListener('abort', this.#onAbort);
    for (const settle of this.#waiting.splice(0)) settle(DONE);
    this.#controller.abort();
    const producer = this.#producer;
    const inFlight = this.#inFlight;
    this.#closed = (async () => {
      try {
        // A producer suspended in an await finishes it (the abort makes that prompt) before return() can run.
        if (inFlight) await inFlight.catch(() => undefined);
        if (producer?.return) await producer.return().catch(() => undefined);
      } finally {
        this.#source.close?.();
      }
    })();
    return this.#closed;
  }
}
