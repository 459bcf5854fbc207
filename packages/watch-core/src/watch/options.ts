// The options of a Watcher and of its streams: their declarations, rules, and defaults applied in one place.
import type { KubeConfig } from '@kubernetes/client-node';
import type { NamespaceOption } from '@kwatch/models';
import type { WatchTransport } from '../client/index.ts';
import {
  type BackoffOptions,
  type Clock,
  checkOptionRule,
  customRule,
  DEFAULTS,
  numberRule,
  type OptionShape,
  oneOfRule,
  optionalRule,
  optionRules,
  strictRule,
} from '../internal/index.ts';
import { isShardOption, type Shard, type ShardOption, shardOf } from '../sharding/index.ts';
import type { WatcherHooks } from './hooks.ts';
import type { MetricsOptions } from './metrics.ts';

/**
 * Options of `new Watcher(kind, options)`.
 *
 * @example
 * ```ts
 * new Watcher(Pod, { namespace: 'web', labelSelector: 'app=web', timeoutSeconds: 60 });
 * ```
 */
export interface WatcherOptions<K> {
  /** Watch within this namespace; `undefined` or `''` watches all namespaces. Default: all namespaces. */
  readonly namespace?: NamespaceOption<K> | undefined;
  /** A label selector, e.g. `app=web,tier!=db`. Default: none. */
  readonly labelSelector?: string;
  /** A field selector, e.g. `status.phase=Running`. Default: none. */
  readonly fieldSelector?: string;
  /**
   * Start after this resourceVersion: only changes after it are delivered, no initial state.
   * `'0'` means "the current state from the server's cache" (it may be slightly stale): managed
   * streams deliver it as the initial state, ending with `SYNCED`; unmanaged ones pass it on as is.
   * Default: none (the current state first, then changes).
   */
  readonly resourceVersion?: string;
  /**
   * The server ends each watch request after this many seconds; the watcher then reconnects
   * (or ends, with `quitOnTimeout`). `0` or `null` (Hikaru's "no timeout") sends no timeout: the
   * server's own default applies (30–60 minutes on kube-apiserver). Default: `290` (Hikaru's
   * default of 1 replays the world every second).
   */
  readonly timeoutSeconds?: number | null;
  /** Ask the server for BOOKMARK events, which keep the resourceVersion fresh on quiet resources. Default: `true`. */
  readonly allowWatchBookmarks?: boolean;
  /**
   * Credentials and cluster, from client-node. Default: the user's kubeconfig (`KUBECONFIG`,
   * `~/.kube/config`) or the in-cluster service account, as kubectl would choose, read without
   * loading @kubernetes/client-node. kwatch's own `readKubeconfig()` (another file or context,
   * also without client-node) goes through a client: `transport: new KubeClient({ kubeConfig })`.
   */
  readonly kubeConfig?: KubeConfig;
  /**
   * Speak HTTP/2 when the server offers it, so that every watcher with the same cluster and
   * credentials shares one connection (up to 100 watches each), as client-go does. `false`
   * gives one HTTP/1.1 connection per watch. Connections are shared either way. Default: `true`.
   */
  readonly http2?: boolean;
  /** Ends every stream of this watcher when aborted, like `stop()`. Default: none. */
  readonly signal?: AbortSignal;
  /** A connection that delivers no byte for this long is treated as dead and reopened, in ms. Default: `120000`. */
  readonly inactivityTimeoutMs?: number;
  /** Reconnect backoff. Default: 800 ms doubling to 30 s, full jitter, reset after 2 min without failure. */
  readonly backoff?: BackoffOptions;
  /** Give up (throw) after this many retryable failures in a row. Default: `Infinity` (never give up; see `health()`). */
  readonly maxConsecutiveErrors?: number;
  /** Largest accepted watch event, in bytes; a longer one is a `LINE_TOO_LONG` error. Default: 16 MiB. */
  readonly maxLineBytes?: number;
  /** Objects per LIST page when listing. Default: `500`. */
  readonly pageSize?: number;
  /**
   * Get the initial state by a WatchList stream (`sendInitialEvents`) instead of a paginated LIST.
   * `'auto'` uses it when the server allows it and falls back to LIST otherwise. Default: `'auto'`.
   */
  readonly watchList?: 'auto' | boolean;
  /**
   * List and watch metadata only (`PartialObjectMetadata`: kind, apiVersion and the full
   * `metadata`, no spec or status), as client-go's metadata informers do: far fewer bytes on the
   * wire and in memory when only names, labels, owners or resourceVersions matter. The objects
   * are typed `PartialObjectMetadata`. Default: `false`.
   */
  readonly metadataOnly?: boolean;
  /**
   * Deliver only the objects whose uid hash is in this shard's ranges, at each instant: a `ShardRing` (this replica's
   * part of a ring of replicas), or fixed `[{ start, end }]` ranges. Lists and watches ask the server for them
   * (`shardSelector`, Kubernetes ≥ 1.36 with `ShardedListAndWatch`) and filter by the same hash on the client
   * whatever it sends. When the ranges change, what was lost is delivered no more and the stream syncs the new ranges
   * (`RESYNC` with reason `RESHARDED`, the objects, `SYNCED`; objects of lost ranges leave as tombstones). A ring not
   * started is started by the first stream. See docs/scaling.md. Default: none (every object).
   */
  readonly shard?: ShardOption;
  /** Lifecycle hooks. Default: none. */
  readonly hooks?: WatcherHooks;
  /**
   * OpenTelemetry instruments (events by type, reconnects, relists, 410s, bookmarks, errors, lag), on
   * your `Meter`; `namespaceLabel` adds a namespace label. Default: none (nothing recorded).
   */
  readonly metrics?: MetricsOptions;
  /** Testing seam: the transport. Default: the kubeConfig's. */
  readonly transport?: WatchTransport;
  /** Testing seam: the clock. Default: the system clock. */
  readonly clock?: Clock;
}

/** Options of `watcher.stream(options)`. */
export interface StreamOptions {
  /**
   * Resume from the last resourceVersion seen, relist on 410 Gone and deliver nothing twice.
   * `false` gives Hikaru's unmanaged behaviour (each reconnect repeats the same request). Default: `true`.
   */
  readonly manageResourceVersion?: boolean;
  /** End the stream when the server closes a watch cleanly (its `timeoutSeconds` elapsed). Default: `false`. */
  readonly quitOnTimeout?: boolean;
  /** Ends this stream when aborted. Default: none. */
  readonly signal?: AbortSignal;
  /** Also yield `SYNCED` / `RESYNC` markers. Default: `false`. */
  readonly markers?: boolean;
  /**
   * Runs every connect (until the response headers) and every LIST page, e.g. through a
   * shared p-queue so many watchers do not reconnect at once after an apiserver restart.
   * Default: none (run at once).
   */
  readonly connectLimiter?: ConnectLimiter;
  /**
   * Resume across process restarts: the resourceVersion is loaded before the stream starts (a
   * watcher that has no position of its own starts after it) and saved from what the consumer took —
   * events and bookmarks — at most once a second and when the stream ends. A 410 on the loaded
   * version relists: `RESYNC` (with markers), every current object as a synthetic ADDED, `SYNCED`.
   * Managed streams of a `Watcher` only; `fileResume(path)` keeps it in a file. Default: none.
   */
  readonly resume?: ResumeStore;
}

/**
 * Where a stream's resourceVersion is kept across restarts (see {@link StreamOptions.resume}).
 *
 * @example
 * ```ts
 * const resume: ResumeStore = { load: async () => redis.get('rv') ?? undefined, save: async (rv) => void redis.set('rv', rv) };
 * ```
 */
export interface ResumeStore {
  /** The saved resourceVersion, or `undefined` when none was saved. */
  load(): Promise<string | undefined>;
  /** Keeps `resourceVersion` (called at most once a second, one call at a time). */
  save(resourceVersion: string): Promise<void>;
}

/** See {@link StreamOptions.connectLimiter}. It must honour `signal` (give up waiting when it aborts). */
export type ConnectLimiter = <R>(run: () => Promise<R>, signal: AbortSignal) => Promise<R>;

const { string, nonEmpty, boolean, positiveInt, positiveMs, signal, function: fn } = optionRules;
const opt = optionalRule;

/**
 * The rules of {@link WatcherOptions}' keys: also what the constructors built on watchers check theirs against
 * (`InformerFactory`'s `watcherOptions`, `MultiplexingWatcher`'s `restartBackoff`).
 */
export const WatcherOptionsShape = {
  namespace: opt(string),
  labelSelector: opt(string),
  fieldSelector: opt(string),
  resourceVersion: opt(nonEmpty),
  timeoutSeconds: opt(
    customRule(
      (v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0),
      'a positive integer, or 0 or null for no timeout',
    ),
  ),
  allowWatchBookmarks: opt(boolean),
  kubeConfig: opt(
    customRule(
      (v) =>
        typeof (v as KubeConfig)?.applySecurityAuthentication === 'function' &&
        typeof (v as KubeConfig)?.getCurrentCluster === 'function',
      'a KubeConfig from @kubernetes/client-node',
    ),
  ),
  http2: opt(boolean),
  signal: opt(signal),
  inactivityTimeoutMs: opt(positiveMs),
  backoff: opt(
    strictRule({
      initialMs: opt(positiveMs),
      maxMs: opt(positiveMs),
      factor: opt(
        numberRule(
          (v) => v >= 1,
          (z) => z.number({ error: 'a number >= 1' }).min(1, { error: 'a number >= 1' }),
        ),
      ),
      resetAfterMs: opt(positiveMs),
    }),
  ),
  // Infinity (the default, "never give up") may be given too: not a finite-number rule.
  maxConsecutiveErrors: opt(customRule((v) => typeof v === 'number' && v > 0, 'a positive number, or Infinity')),
  maxLineBytes: opt(positiveInt),
  pageSize: opt(positiveInt),
  watchList: opt(oneOfRule(['auto'], true, "'auto', true or false")),
  metadataOnly: opt(boolean),
  shard: opt(customRule(isShardOption, 'a ShardRing (a Shard) or an array of { start, end } bigint ranges')),
  hooks: opt(
    strictRule(Object.fromEntries(['connected', 'reconnecting', 'relisted', 'bookmark', 'error'].map((name) => [name, opt(fn)]))),
  ),
  // Typed by MetricsOptions: the Meter it holds is not a name other files can use.
  metrics: opt(
    strictRule({
      meter: customRule((v) => typeof (v as MetricsOptions['meter'])?.createCounter === 'function', 'an OpenTelemetry Meter'),
      namespaceLabel: opt(boolean),
    }),
  ),
  transport: opt(customRule((v) => typeof (v as WatchTransport)?.openStream === 'function', 'a WatchTransport')),
  clock: opt(customRule((v) => typeof (v as Clock)?.setTimeout === 'function', 'a Clock')),
} as const satisfies OptionShape;

const WatcherOptionsRule = strictRule(WatcherOptionsShape);

const StreamOptionsRule = strictRule({
  manageResourceVersion: opt(boolean),
  quitOnTimeout: opt(boolean),
  signal: opt(signal),
  markers: opt(boolean),
  connectLimiter: opt(fn),
  resume: opt(
    customRule(
      (v) => typeof (v as ResumeStore)?.load === 'function' && typeof (v as ResumeStore)?.save === 'function',
      'an object with load() and save()',
    ),
  ),
});

/** Validates watcher options; a bad value is a `KwatchError` `INVALID_OPTION` naming it. */
function checkWatcherOptions(options: unknown): void {
  checkOptionRule(WatcherOptionsRule, options, 'the watcher options');
}

/** Validates stream options. */
function checkStreamOptions(options: unknown): void {
  checkOptionRule(StreamOptionsRule, options, 'the stream options');
}

/** Watcher options with every default applied. */
export interface ResolvedWatcherOptions {
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly resourceVersion: string | undefined;
  /** `undefined`: none sent. */
  readonly timeoutSeconds: number | undefined;
  readonly allowWatchBookmarks: boolean;
  readonly http2: boolean;
  readonly inactivityTimeoutMs: number;
  readonly maxConsecutiveErrors: number;
  readonly maxLineBytes: number;
  readonly pageSize: number;
  readonly watchList: 'auto' | boolean;
  readonly metadataOnly: boolean;
  readonly shard: Shard | undefined;
  readonly hooks: WatcherHooks;
}

/** Validates watcher options and applies the defaults. */
export function resolveWatcherOptions(options: WatcherOptions<unknown>): ResolvedWatcherOptions {
  checkWatcherOptions(options);
  const o = options;
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    resourceVersion: o.resourceVersion,
    timeoutSeconds:
      o.timeoutSeconds === undefined ? DEFAULTS.watcher.timeoutSeconds : o.timeoutSeconds ? o.timeoutSeconds : undefined,
    allowWatchBookmarks: o.allowWatchBookmarks ?? DEFAULTS.watcher.allowWatchBookmarks,
    http2: o.http2 ?? DEFAULTS.client.http2,
    inactivityTimeoutMs: o.inactivityTimeoutMs ?? DEFAULTS.watcher.inactivityTimeoutMs,
    maxConsecutiveErrors: o.maxConsecutiveErrors ?? DEFAULTS.watcher.maxConsecutiveErrors,
    maxLineBytes: o.maxLineBytes ?? DEFAULTS.watcher.maxLineBytes,
    pageSize: o.pageSize ?? DEFAULTS.watcher.pageSize,
    watchList: o.watchList ?? DEFAULTS.watcher.watchList,
    metadataOnly: o.metadataOnly ?? DEFAULTS.watcher.metadataOnly,
    shard: shardOf(o.shard),
    hooks: o.hooks ?? {},
  };
}

/** Stream options with every default applied. */
export interface ResolvedStreamOptions {
  readonly manage: boolean;
  readonly quitOnTimeout: boolean;
  readonly markers: boolean;
}

/** Validates stream options and applies the defaults. */
export function resolveStreamOptions(options: StreamOptions): ResolvedStreamOptions {
  checkStreamOptions(options);
  return {
    manage: options.manageResourceVersion ?? DEFAULTS.stream.manageResourceVersion,
    quitOnTimeout: options.quitOnTimeout ?? DEFAULTS.stream.quitOnTimeout,
    markers: options.markers ?? DEFAULTS.stream.markers,
  };
}
