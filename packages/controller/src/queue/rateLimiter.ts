// How long a failed key waits before it runs again: client-go's per-item exponential backoff and overall token bucket.

/**
 * Per-key exponential backoff, as client-go's `ItemExponentialFailureRateLimiter`: the n-th failure in a row of a
 * key waits `baseMs · 2ⁿ⁻¹`, at most `maxMs`; {@link forget} starts the key over.
 *
 * @example
 * ```ts
 * const backoff = new ItemBackoff({ baseMs: 5, maxMs: 1_000_000 });
 * backoff.when('web/a'); // 5
 * backoff.when('web/a'); // 10
 * backoff.forget('web/a');
 * ```
 */
export class ItemBackoff<K> {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<K, number>();

  /** @param options `baseMs` (default 5) and `maxMs` (default 1,000,000: client-go's 1000 s). */
  constructor(options: { readonly baseMs?: number; readonly maxMs?: number } = {}) {
    this.#baseMs = options.baseMs ?? 5;
    this.#maxMs = options.maxMs ?? 1_000_000;
  }

  /** Records one more failure of `key`; the delay before its next run, in ms. */
  when(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; min() keeps it at the cap.
    return Math.min(this.#maxMs, this.#baseMs * 2 ** n);
  }

  /** How many failures in a row `key` has had since it was last forgotten. */
  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Forgets `key`'s failures (it succeeded, or gave up). */
  forget(key: K): void {
    this.#failures.delete(key);
  }
}

/**
 * An overall token bucket, as client-go's `BucketRateLimiter` (a `rate.Limiter`): `burst` tokens, refilled at `qps`
 * per second; each delay reserves one token, and waits until that token exists.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ qps: 10, burst: 100 });
 * bucket.reserve(Date.now()); // 0 while tokens last, then 100 ms more per reservation
 * ```
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #at: number | undefined;

  /** @param options `qps` (default 10) and `burst` (default 100), client-go's defaults. */
  constructor(options: { readonly qps?: number; readonly burst?: number } = {}) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
    this.#tokens = this.#burst;
  }

  /** Reserves one token at `now` (ms); how long until it exists, in ms (0 when one is there). */
  reserve(now: number): number {
    if (this.#at !== undefined && now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#qps) / 1000);
    }
    if (this.#at === undefined || now > this.#at) this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.#qps;
  }
}
