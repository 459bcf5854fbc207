// The request budget of one watcher: a token bucket every request draws from, and the failure backoff.
import { Backoff, type BackoffOptions, type Clock, sleep } from '../internal/index.ts';

/**
 * The request budget of one watcher: a token bucket that every request — connect, LIST page,
 * relist, WatchList retry, fallback — draws from, whatever the server answers. The one exception
 * is a LIST page earned by the page before it: one that brought a full `pageSize` of objects new
 * to its list under a continue token not seen before in it (so free pages are at most one per
 * `pageSize` distinct objects the server lists, as an honest paginated list has). A page without
 * progress is a failure (the machine decides; docs/watching.md, Pacing). client-go's clients
 * default to the same 5 per second with a burst of 10.
 */
export const PACING = {
  /** Requests that may be sent at once after a quiet period. */
  burst: 10,
  /** Requests per second, sustained. */
  perSecond: 5,
  /** A watch that ends sooner than this without an event or bookmark counts as a failure (client-go: 1 s). */
  minWatchMs: 1000,
} as const;

/**
 * One pace for every request of a watcher, kept across its streams: the token bucket of
 * {@link PACING}, and the failure backoff (800 ms doubling to 30 s, full jitter) that every
 * failure — a refused request, a cut, 410 Gone, a watch closed at once — escalates.
 *
 * @example
 * ```ts
 * const pacer = new Pacer(systemClock);
 * if (await pacer.admit(signal)) await sendRequest();
 * const delayMs = pacer.failure(); // then sleep delayMs and try again
 * ```
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  #tokens: number = PACING.burst;
  #refilledAt: number;
  /** Failures since the last progress (an event or bookmark from a live watch). */
  consecutiveFailures = 0;
  /** Requests sent (admitted) so far. */
  requests = 0;

  constructor(clock: Clock, backoff: BackoffOptions = {}, random?: () => number) {
    this.#clock = clock;
    this.#backoff = new Backoff(backoff, random);
    this.#refilledAt = clock.now();
  }

  /**
   * Waits for a request token. Resolves `true` when the request may be sent, `false` when
   * `signal` aborted first. A `free` request (a LIST page earned by a full page of new objects,
   * see {@link PACING}) takes none, but is counted in {@link requests}.
   */
  async admit(signal: AbortSignal, free = false): Promise<boolean> {
    if (signal.aborted) return false;
    if (!free) {
      for (;;) {
        this.#refill();
        if (this.#tokens >= 1) break;
        const waitMs = Math.ceil(((1 - this.#tokens) * 1000) / PACING.perSecond);
        if (!(await sleep(waitMs, signal, this.#clock))) return false;
      }
      this.#tokens -= 1;
    }
    this.requests += 1;
    return true;
  }

  /** A failure: counts it and returns how long to wait before the next try, in ms. */
  failure(retryAfterMs?: number): number {
    this.consecutiveFailures += 1;
    return this.#backoff.next(this.#clock.now(), retryAfterMs);
  }

  /** Progress (a live event or bookmark): the failure count starts over. The backoff resets itself after 2 quiet minutes. */
  progress(): void {
    this.consecutiveFailures = 0;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(PACING.burst, this.#tokens + (elapsed * PACING.perSecond) / 1000);
  }
}
