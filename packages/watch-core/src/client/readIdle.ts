// The dead-connection check of responses on connections without HTTP/2 PING: a watch that ends in time, or is dead.
import { TransportError } from '../internal/index.ts';
import { type GuardedBody, readByEvents } from './eventBody.ts';

/** The health settings (nativeHttp.ts `Http2Health`): quiet time before a probe, and time the probe has. */
interface Health {
  readonly readIdleMs: number;
  readonly pingTimeoutMs: number;
}

/**
 * How long a watch request may last on a connection that cannot be PINGed (HTTP/1.1, or undici's connections), in
 * seconds: the `readIdleMs` of the health settings (client-go's 30 s). The server ends such a watch cleanly within it
 * (the watcher resumes at once, as after any clean end), so a live connection always delivers a byte within
 * `readIdleMs`, and one silent for `readIdleMs + pingTimeoutMs` (45 s) is dead.
 */
export function watchSecondsWithoutPing(health: Health): number {
  return Math.max(1, Math.floor(health.readIdleMs / 1000));
}

/**
 * `path` with a watch's `timeoutSeconds` lowered to {@link watchSecondsWithoutPing} (set when absent); other requests
 * unchanged.
 *
 * @example
 * ```ts
 * clampWatch('/api/v1/pods?watch=1&timeoutSeconds=290', { readIdleMs: 30_000, pingTimeoutMs: 15_000 }); // …timeoutSeconds=30
 * ```
 */
export function clampWatch(path: string, health: Health): string {
  const at = path.indexOf('?');
  if (at < 0) return path;
  const query = new URLSearchParams(path.slice(at + 1));
  // The API server's rule (apimachinery's Convert_Slice_string_To_bool on the first value): any value but `0` or
  // `false` (in any case), even an empty one, asks for a watch.
  const watch = query.get('watch');
  if (watch === null || watch === '0' || watch.toLowerCase() === 'false') return path;
  const limit = watchSecondsWithoutPing(health);
  const asked = Number(query.get('timeoutSeconds') ?? Number.NaN);
  if (asked > 0 && asked <= limit) return path;
  query.set('timeoutSeconds', String(limit));
  return `${path.slice(0, at)}?${query.toString()}`;
}

/**
 * The body, failing with a retryable `TransportError` `STALLED` (the body destroyed) when a pull waits longer than
 * `readIdleMs + pingTimeoutMs` for a byte. Only time spent waiting on the connection counts: a slow consumer that does
 * not pull is never taken for a dead connection. The timer never holds the process open and stops with the body.
 *
 * @example
 * ```ts
 * const body = guardReadIdle(res.body, { readIdleMs: 30_000, pingTimeoutMs: 15_000 }, 'https://10.0.0.1:6443');
 * ```
 */
export function guardReadIdle(received: GuardedBody, health: Health, origin: string): GuardedBody {
  const body = readByEvents(received);
  const limit = health.readIdleMs + health.pingTimeoutMs;
  const step = Math.min(1000, Math.max(10, Math.floor(limit / 20)));
  /** Since when the oldest pull still waiting has waited (a pull that ends restarts the clock for the others). */
  let waitingSince: number | undefined;
  let waiting = 0;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
  };
  const timer = setInterval(() => {
    if (stopped || waitingSince === undefined || Date.now() - waitingSince < limit) return;
    stop();
    body.destroy(
      new TransportError(
        'STALLED',
        `Connection to ${origin}: nothing read for ${limit} ms on a connection without HTTP/2 PING; the request fails and reconnects`,
      ),
    );
  }, step);
  timer.unref();
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const inner = body[Symbol.asyncIterator]();
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          waitingSince ??= Date.now();
          waiting += 1;
          try {
            const r = await inner.next();
            if (r.done) stop();
            return r;
          } catch (err) {
            stop();
            throw err;
          } finally {
            waiting -= 1;
            waitingSince = waiting > 0 ? Date.now() : undefined;
          }
        },
        async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
          stop();
          return (await inner.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
    destroy(error?: Error): void {
      stop();
      body.destroy(error);
    },
  };
}
