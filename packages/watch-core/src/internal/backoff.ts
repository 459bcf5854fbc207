// Exponential backoff with full jitter, for reconnects and restarts.
import { DEFAULTS } from './defaults.ts';

/** Options of {@link Backoff}. The defaults ({@link DEFAULTS}`.backoff`) are client-go's and kube-rs's. */
export interface BackoffOptions {
  /** First delay cap, in ms. Default: `800`. */
  readonly initialMs?: number;
  /** Largest delay cap, in ms. Default: `30000`. */
  readonly maxMs?: number;
  /** Growth of the cap per failure. Default: `2`. */
  readonly factor?: number;
  /** After this long without a failure, the next failure starts from `initialMs` again, in ms. Default: `120000`. */
  readonly resetAfterMs?: number;
}

/**
 * Exponential backoff with full jitter: the n-th consecutive failure waits a uniformly
 * random time in [0, min(max, initial × factorⁿ)], at least 10 ms. A `Retry-After` from the
 * server is a floor.
 *
 * @example
 * ```ts
 * const b = new Backoff();
 * const wait = b.next(Date.now()); // 0..800 ms, then 0..1600 ms, ... up to 30 s
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #resetAfterMs: number;
  readonly #random: () => number;
  #attempt = 0;
  #lastFailureAt: number | undefined;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.#initialMs = options.initialMs ?? DEFAULTS.backoff.initialMs;
    this.#maxMs = options.maxMs ?? DEFAULTS.backoff.maxMs;
    this.#factor = options.factor ?? DEFAULTS.backoff.factor;
    this.#resetAfterMs = options.resetAfterMs ?? DEFAULTS.backoff.resetAfterMs;
    this.#random = random;
  }

  /** The delay before the next try, after a failure at `now`. */
  next(now: number, retryAfterMs?: number): number {
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#resetAfterMs) this.#attempt = 0;
    this.#lastFailureAt = now;
    const cap = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt += 1;
    const jittered = Math.max(10, Math.floor(this.#random() * cap));
    return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, 5 * 60_000));
  }

  /** Forget past failures (e.g. after a healthy period the caller observed itself). */
  reset(): void {
    this.#attempt = 0;
    this.#lastFailureAt = undefined;
  }

  /** How many failures in a row this backoff has counted. */
  get attempts(): number {
    return this.#attempt;
  }
}
