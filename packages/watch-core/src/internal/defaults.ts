// The default of every watch-core option, written once: each constructor's resolve…Options() reads it from here.

/** Items queued per subscriber of a shared watch or a store before it counts as lagging. */
const QUEUE_BOUND = 1024;

/**
 * The default of every option of watch-core's public constructors, in one place, by constructor. Each
 * constructor's options declaration names these values in its TSDoc, and its `resolve…Options()` applies them;
 * nothing else writes a default. Durations are in the unit their name ends in.
 *
 * @example
 * ```ts
 * DEFAULTS.client.http2; // true: every KubeClient, Watcher and InformerFactory speaks HTTP/2 unless told not to
 * DEFAULTS.watcher.timeoutSeconds; // 290
 * ```
 */
export const DEFAULTS = deepFreeze({
  /** `new KubeClient(options)` (and the client a `Watcher` or `InformerFactory` makes for its `kubeConfig`). */
  client: {
    /** Speak HTTP/2 when the server offers it. */
    http2: true,
    /** HTTP/2 health check: PING a connection that read nothing for this long (client-go's `ReadIdleTimeout`). */
    readIdleMs: 30_000,
    /** HTTP/2 health check: destroy a connection whose PING is not answered within this long (client-go's `PingTimeout`). */
    pingTimeoutMs: 15_000,
  },
  /** `new Watcher(kind, options)`; its `http2` is the client's. */
  watcher: {
    timeoutSeconds: 290,
    allowWatchBookmarks: true,
    inactivityTimeoutMs: 120_000,
    maxConsecutiveErrors: Number.POSITIVE_INFINITY,
    maxLineBytes: 16 * 1024 * 1024,
    pageSize: 500,
    watchList: 'auto',
    metadataOnly: false,
  },
  /** `watcher.stream(options)` and `multiplexer.stream(options)`. */
  stream: {
    manageResourceVersion: true,
    quitOnTimeout: false,
    markers: false,
  },
  /** `new Backoff(options)`: a watcher's reconnects, a multiplexer's restarts. client-go's and kube-rs's. */
  backoff: {
    initialMs: 800,
    maxMs: 30_000,
    factor: 2,
    resetAfterMs: 120_000,
  },
  /** `new MultiplexingWatcher(options)`; its `restartBackoff` is {@link DEFAULTS}`.backoff`. */
  multiplexer: {
    /** Watchers that may connect or list at the same time. */
    connectConcurrency: 4,
    /** Entries buffered per watcher before it stops reading. */
    bufferSize: 256,
  },
  /** `new InformerFactory(options)` and `informers.stream(kind, options)`. */
  informers: {
    /** How long a shared watch runs on after its last holder left, in ms. */
    graceMs: 3000,
    /** Items queued per stream subscriber before it is resynced (`informers.stream()` may set its own). */
    bufferSize: QUEUE_BOUND,
    /** `informers.stream()`: also yield `SYNCED` / `RESYNC` markers. */
    markers: false,
  },
  /** `store.events(options)`. */
  storeEvents: {
    /** Changes queued per iteration before it gets the net difference instead. */
    bufferSize: QUEUE_BOUND,
  },
} as const);

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
