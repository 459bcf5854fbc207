// A response body read by its events: each pull hands out, as one chunk, every byte that arrived since the last.
import { TransportError } from '../internal/index.ts';

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
  /** An HTTP/2 stream's RST_STREAM code: 0 when it ended cleanly. */
  readonly rstCode?: number;
  readonly readableEncoding?: BufferEncoding | null;
  readonly errored?: Error | null;
  readonly destroyed?: boolean;
}

function isEvents(body: object): body is Events {
  const b = body as Partial<Events>;
  return typeof b.on === 'function' && typeof b.pause === 'function' && typeof b.resume === 'function';
}

/** Whether an HTTP/2 stream was reset (its connection cut: Node then ends it as if cleanly, with a non-zero code). */
function wasReset(body: Events): boolean {
  return typeof body.rstCode === 'number' && body.rstCode !== 0;
}

/** The error of an HTTP/2 stream that ended because it was reset, not because the server finished the response. */
function resetError(code: number): Error {
  return new TransportError(
    'NETWORK_ERROR',
    `The connection was cut before the response ended (HTTP/2 stream reset with code ${code})`,
  );
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
 *   stream that ended cleanly is not a premature close. An HTTP/2 stream that Node ended because its connection was
 *   cut (reset code non-zero) is a `TransportError` `NETWORK_ERROR`, not an end: a watch with `quitOnTimeout` does not
 *   take a cut for the server's timeout.
 * - An error (or a close before the end) is thrown after the bytes that arrived before it; `destroy(reason)` drops
 *   what was not pulled and the pending pull rejects with `reason` (also after the end arrived, when bytes were
 *   dropped). A body already failed or destroyed when wrapped fails its first pull.
 * - Pulls made side by side settle in the order they were made, each with the bytes of its turn.
 * - A string chunk (a body with an encoding set) is turned back into the bytes received, in that encoding.
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
  /** The end arrived (and nothing was dropped after it). */
  let ended = readable.readableEnded === true && !wasReset(readable);
  /** What the pulls report once the bytes before it are out; `destroy` drops those bytes. */
  let failure: Error | undefined =
    readable.errored ??
    (wasReset(readable)
      ? resetError(readable.rstCode as number)
      : // Destroyed: its unread bytes are gone. Not `closed`: an HTTP/2 stream is `closed` once its frames are all in,
        // often before its 'response' is handled, with every byte still to be read.
        !ended && readable.destroyed
        ? prematureClose()
        : undefined);
  /** Pulls not settled yet, oldest first: each is served in the order it was made. */
  const pulls: Array<{ resolve: (r: IteratorResult<Uint8Array>) => void; reject: (err: unknown) => void }> = [];
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
  /** Settles the waiting pulls that can be: bytes first, then the end or the failure (for every one left). */
  const serve = (): void => {
    for (let pull = pulls[0]; pull && (bytes > 0 || ended || failure); pull = pulls[0]) {
      pulls.shift();
      if (bytes > 0) pull.resolve({ done: false, value: take() });
      else if (ended) pull.resolve({ done: true, value: undefined });
      else pull.reject(failure);
    }
  };
  readable.on('data', (chunk) => {
    if (failure) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, readable.readableEncoding ?? 'utf8') : chunk;
    if (buf.byteLength === 0) return;
    chunks.push(buf);
    bytes += buf.byteLength;
    if (bytes >= EVENT_BODY_HIGH_WATER_BYTES && !paused) {
      paused = true;
      readable.pause();
    }
    serve();
  });
  readable.on('end', () => {
    // A cut HTTP/2 connection ends its streams as if cleanly, but with a reset code: a failure, not the end.
    if (wasReset(readable)) failure ??= resetError(readable.rstCode as number);
    else if (!failure) ended = true;
    serve();
  });
  readable.on('error', (err) => {
    if (!ended) failure ??= err;
    serve();
  });
  readable.on('close', () => {
    if (readable.readableEnded && !failure && !wasReset(readable)) ended = true;
    else if (!ended) failure ??= prematureClose();
    serve();
  });
  const destroy = (error?: Error): void => {
    if (!ended || bytes > 0) {
      // Bytes not pulled are dropped: what is left to report is the failure, not an end.
      ended = false;
      failure ??= error ?? prematureClose();
    }
    chunks = [];
    bytes = 0;
    readable.destroy(error);
    serve();
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      return {
        next(): Promise<IteratorResult<Uint8Array>> {
          return new Promise((resolve, reject) => {
            pulls.push({ resolve, reject });
            serve();
          });
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
