// A response body read by its events: each pull hands out, as one chunk, every byte that arrived since the last.

/** A response body: pulled, and destroyed to end it. */
export interface GuardedBody extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): void;
}

/** Bytes received and not yet pulled past which the body is paused (backpressure reaches the connection). */
export const EVENT_BODY_HIGH_WATER_BYTES: number = 1024 * 1024;

/** What the reader uses of a Node.js Readable (an HTTP/2 stream, an `IncomingMessage`, undici's body). */
interface Events {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(error?: Error): unknown;
  readonly readableEnded?: boolean;
}

function isEvents(body: object): body is Events {
  const b = body as Partial<Events>;
  return typeof b.on === 'function' && typeof b.pause === 'function' && typeof b.resume === 'function';
}

/** The error of a body closed before its end arrived (Node's own code for it). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * `body` read by its `data`/`end`/`error`/`close` events instead of by async iteration. A pull resolves as soon as a
 * byte is there, with everything that arrived since the previous pull as one chunk: a watch whose server flushes every
 * event (a WatchList's initial events: ~3,700 frames for 10k ConfigMaps) costs one pull per burst the connection
 * delivers, not one per frame (the Readable's async iterator: a promise, a `readable` event and a tick per frame).
 *
 * - Backpressure: past {@link EVENT_BODY_HIGH_WATER_BYTES} not pulled, the body is paused until the next pull.
 * - The end is decided by whether the body ended (`readableEnded`), not by the order of `close` and `end`: an HTTP/2
 *   stream that ended cleanly is not a premature close.
 * - An error (or a close before the end) is thrown after the bytes that arrived before it; `destroy(reason)` drops
 *   what was not pulled and the pending pull rejects with `reason`.
 *
 * A body without those events (a test transport's iterable) is returned as it is.
 *
 * @example
 * ```ts
 * for await (const chunk of readByEvents(res.body)) splitter.push(chunk);
 * ```
 */
export function readByEvents(body: GuardedBody): GuardedBody {
  if (!isEvents(body)) return body;
  const readable = body;
  let chunks: Buffer[] = [];
  let bytes = 0;
  let paused = false;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  readable.on('data', (chunk) => {
    if (failure) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buf);
    bytes += buf.byteLength;
    if (bytes >= EVENT_BODY_HIGH_WATER_BYTES && !paused) {
      paused = true;
      readable.pause();
    }
    notify();
  });
  readable.on('end', () => {
    ended = true;
    notify();
  });
  readable.on('error', (err) => {
    failure ??= err;
    notify();
  });
  readable.on('close', () => {
    if (readable.readableEnded) ended = true;
    else failure ??= prematureClose();
    notify();
  });
  const take = (): Buffer => {
    const value = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
    chunks = [];
    bytes = 0;
    if (paused) {
      paused = false;
      readable.resume();
    }
    return value;
  };
  const destroy = (error?: Error): void => {
    chunks = [];
    bytes = 0;
    failure ??= error ?? prematureClose();
    readable.destroy(error);
    notify();
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          for (;;) {
            if (bytes > 0) return { done: false, value: take() };
            if (ended) return { done: true, value: undefined };
            if (failure) throw failure;
            await new Promise<void>((resolve) => {
              const earlier = wake;
              wake = earlier
                ? () => {
                    earlier();
                    resolve();
                  }
                : resolve;
            });
          }
        },
        async return(): Promise<IteratorResult<Uint8Array>> {
          if (!ended) destroy();
          return { done: true, value: undefined };
        },
      };
    },
    destroy,
  };
}
