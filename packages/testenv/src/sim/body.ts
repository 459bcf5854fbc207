// The simulator's streaming response body: how watch events are cut into chunks and read.
/**
 * How a watch response is cut into chunks (what one read of the body returns). Events that
 * are ready together (a backlog, the initial events, changes made in the same synchronous
 * turn, or everything written while the client was not reading) go out together:
 * - `eventsPerChunk`: at most this many events in one chunk. Default: all that are ready.
 * - `maxChunkBytes`: cut chunks at this many bytes, so one event can span several chunks. Default: no limit.
 *
 * @example
 * ```ts
 * sim.chunking = { eventsPerChunk: 3 };   // d, e and f in one read
 * sim.chunking = { maxChunkBytes: 40 };   // every event split across reads
 * ```
 */
export interface ChunkPolicy {
  readonly eventsPerChunk?: number;
  readonly maxChunkBytes?: number;
}

type Waiter = { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void };

/**
 * A simulated streaming response body, shaped as kwatch's `StreamBody`: an async iterable
 * of chunks the client pulls (nothing is read ahead), and `close(reason)`. The server side
 * writes lines, ends it cleanly, or stalls it (a half-open connection: nothing more ever arrives).
 * Delivery to a waiting reader happens on a microtask, so writes in one synchronous turn share a chunk.
 *
 * @example
 * ```ts
 * const body = new SimStreamBody(() => ({ eventsPerChunk: 2 }));
 * body.write('{"type":"ADDED",...}\n');
 * body.end();
 * for await (const chunk of body) process(chunk);
 * ```
 */
export class SimStreamBody implements AsyncIterable<Uint8Array> {
  readonly #policy: () => ChunkPolicy;
  readonly #pending: Buffer[] = [];
  #ended = false;
  #closed: { reason: unknown } | undefined;
  #stalled = false;
  #waiter: Waiter | undefined;
  #flushQueued = false;
  #onClose: Array<() => void> = [];

  readonly #closeLatency: 'sync' | 'turn';

  /**
   * @param policy How to cut chunks (read at every read).
   * @param closeLatency When a client-side `close()` rejects the pending read: `'turn'` (default) one
   * event-loop turn later, as a real socket's teardown does; `'sync'` at once.
   */
  constructor(policy: () => ChunkPolicy, closeLatency: 'sync' | 'turn' = 'turn') {
    this.#policy = policy;
    this.#closeLatency = closeLatency;
  }

  /** True once the client closed the body (or the server finished and the client read the end). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** True when everything written has been read by the client. */
  get drained(): boolean {
    return this.#pending.length === 0;
  }

  /** Stalled bodies deliver nothing more, ever (the client must close them). */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** Runs `fn` once when the body is closed by either side. */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  /** Server side: queues one line (it should end with `\n`). Ignored after `end()` or `close()`. */
  write(line: string): void {
    if (this.#ended || this.#closed) return;
    this.#pending.push(Buffer.from(line));
    this.#schedule();
  }

  /** Server side: a clean end of the response, after what was written is read. */
  end(): void {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    this.#schedule();
  }

  /** Server side: the connection goes silent for good (a half-open TCP connection). */
  stall(): void {
    this.#stalled = true;
  }

  /** Client side: ends the response; a pending read rejects with `reason` (default: an `AbortError`). */
  close(reason?: Error): void {
    if (this.#closed) return;
    const why = reason ?? Object.assign(new Error('The response body was closed'), { name: 'AbortError' });
    this.#closed = { reason: why };
    this.#pending.length = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter && this.#closeLatency === 'turn') setImmediate(() => waiter.reject(why));
    else waiter?.reject(why);
    this.#finish();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.#read(),
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  #read(): Promise<IteratorResult<Uint8Array>> {
    if (this.#closed) return Promise.reject(this.#closed.reason);
    if (this.#waiter) return Promise.reject(new Error('SimStreamBody: concurrent reads'));
    const ready = this.#take();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The next result, if one is ready now. */
  #take(): IteratorResult<Uint8Array> | undefined {
    if (this.#stalled) return undefined;
    if (this.#pending.length > 0) return { done: false, value: this.#chunk() };
    if (this.#ended) {
      this.#closed = { reason: new Error('The response body has ended') };
      this.#finish();
      return { done: true, value: undefined };
    }
    return undefined;
  }

  #chunk(): Buffer {
    const { eventsPerChunk = Number.POSITIVE_INFINITY, maxChunkBytes = Number.POSITIVE_INFINITY } = this.#policy();
    const count = Math.max(1, Math.min(eventsPerChunk, this.#pending.length));
    let chunk = Buffer.concat(this.#pending.splice(0, count));
    if (chunk.length > maxChunkBytes) {
      const cut = Math.max(1, Math.floor(maxChunkBytes));
      this.#pending.unshift(chunk.subarray(cut));
      chunk = chunk.subarray(0, cut);
    }
    return chunk;
  }

  #schedule(): void {
    if (!this.#waiter || this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const waiter = this.#waiter;
      if (!waiter) return;
      const ready = this.#take();
      if (!ready) return;
      this.#waiter = undefined;
      waiter.resolve(ready);
    });
  }

  #finish(): void {
    const callbacks = this.#onClose;
    this.#onClose = [];
    for (const fn of callbacks) fn();
  }
}
