// The default of every toolkit option, written once: each constructor's resolve…Options() reads it from here.

/**
 * The default of every option of the toolkit's constructors and functions, in one place, by what takes them. Each
 * options declaration names these values in its TSDoc and its `resolve…Options()` applies them; nothing else writes
 * a default. Durations are in the unit their name ends in. The watch's own defaults are `@kwatch/watch-core`'s
 * `DEFAULTS`.
 *
 * @example
 * ```ts
 * DEFAULTS.leaderElection.leaseDurationSeconds; // 15, client-go's
 * ```
 */
export const DEFAULTS = deepFreeze({
  /** `new ListenerDispatcher(listeners, options)` (and a `StreamWatch`'s dispatcher). */
  dispatcher: {
    concurrency: 8,
    chain: false,
    /** Not an option: `dispatch()` waits while more than `concurrency` × this many events are pending. */
    pendingPerWorker: 4,
  },
  /** `new LeaderElector(options)` and `elector.stop(options)`: client-go's values. */
  leaderElection: {
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
    /** `stop()`: release the lease when leading. */
    release: true,
    releaseTimeoutMs: 500,
  },
  /** `startHealthServer(options)` (and `StreamWatch.run`'s `healthcheck…` options). */
  health: {
    host: '127.0.0.1',
    livenessWindowMs: 300_000,
  },
  /** `new Discovery(cluster)`: each discovery read without a signal of the caller's. */
  discovery: {
    requestTimeoutMs: 30_000,
  },
  /** `loadConfig(inputs)`. */
  config: {
    serviceAccountDir: '/var/run/secrets/kubernetes.io/serviceaccount',
    requireResource: true,
    logLevel: 'info',
  },
} as const);

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
