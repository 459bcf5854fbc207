// The options of InformerFactory, its store() and stream(), Store and store.events(): declared, checked, defaulted.
import type { KubeConfig } from '@kubernetes/client-node';
import type { NamespaceOption } from '@kwatch/models';
import type { WatchTransport } from '../client/index.ts';
import {
  type Clock,
  checkOptionRule,
  DEFAULTS,
  nullableRule,
  type OptionShape,
  optionalRule,
  optionRules,
  strictRule,
  systemClock,
} from '../internal/index.ts';
import { type Shard, type ShardOption, shardOf } from '../sharding/index.ts';
import { type MetricsOptions, type WatcherOptions, WatcherOptionsShape } from '../watch/index.ts';

/**
 * Watcher options an `InformerFactory` applies to every watch it opens.
 *
 * @example
 * ```ts
 * const watcherOptions: SharedWatcherOptions = { timeoutSeconds: 120, backoff: { maxMs: 10_000 } };
 * ```
 */
export type SharedWatcherOptions = Omit<
  WatcherOptions<unknown>,
  | 'namespace'
  | 'labelSelector'
  | 'fieldSelector'
  | 'metadataOnly'
  | 'resourceVersion'
  | 'kubeConfig'
  | 'transport'
  | 'signal'
  | 'clock'
  | 'metrics'
>;

/**
 * Options of `new InformerFactory(options)`. Every default is in `DEFAULTS.informers` (the watchers' in `DEFAULTS.watcher`).
 *
 * @example
 * ```ts
 * new InformerFactory({ kubeConfig, graceMs: 10_000, bufferSize: 4096, watcherOptions: { timeoutSeconds: 120 } });
 * ```
 */
export interface InformerFactoryOptions {
  /** The cluster and credentials, from client-node. Default: the user's kubeconfig, as `Watcher` reads it. */
  readonly kubeConfig?: KubeConfig;
  /** The transport of every watch (e.g. a `KubeClient` for `readKubeconfig()`). Default: one `KubeClient` of `kubeConfig`. */
  readonly transport?: WatchTransport;
  /**
   * How long a watch keeps running after its last subscriber left, in ms (a quick re-subscribe reuses it); `0`
   * stops it at the next turn. Default: `3000`.
   */
  readonly graceMs?: number;
  /**
   * Items queued per stream subscriber before it counts as lagging: its queue is then dropped and it is
   * resynced from the shared store (`RESYNC`, the difference, `SYNCED`). A positive integer. Default: `1024`.
   */
  readonly bufferSize?: number;
  /**
   * Options of every watcher (timeouts, backoff, hooks, …), checked when the factory is made. Default: the
   * watcher defaults (`http2` the client's: `true`).
   */
  readonly watcherOptions?: SharedWatcherOptions;
  /**
   * OpenTelemetry instruments on your `Meter`: those of every shared watcher (events, reconnects,
   * relists, 410s, bookmarks, errors, lag), and per shared watch the store size, subscribers, the
   * deepest subscriber queue, the last event's age and overflows. Labels: `kind`, and `namespace`
   * with `namespaceLabel`. Default: none.
   */
  readonly metrics?: MetricsOptions;
  /**
   * Shard every informer of this factory: only objects whose uid hash is in this shard's ranges are watched and
   * stored (a `ShardRing` for replicas that split a kind between them; see `WatcherOptions.shard`). An informer's own
   * `shard` option overrides it. Default: none (every object).
   */
  readonly shard?: ShardOption;
  /** Testing seam: the clock of watchers and the grace period. Default: the system clock. */
  readonly clock?: Clock;
}

/**
 * What identifies a shared watch: one watch request per (kind, namespace, selectors, metadataOnly).
 *
 * @example
 * ```ts
 * informers.store(Pod, { namespace: 'web', labelSelector: 'app=web', metadataOnly: true });
 * ```
 */
export interface InformerOptions<K> {
  /** Watch within this namespace; `undefined` or `''` watches all namespaces. Default: all namespaces. */
  readonly namespace?: NamespaceOption<K> | undefined;
  /** A label selector. Default: none. */
  readonly labelSelector?: string;
  /** A field selector. Default: none. */
  readonly fieldSelector?: string;
  /** Objects as `PartialObjectMetadata` (metadata only). Default: `false`. */
  readonly metadataOnly?: boolean;
  /** This informer's shard (see `WatcherOptions.shard`); `null`: every object even if the factory is sharded. Default: the factory's `shard`. */
  readonly shard?: ShardOption | null;
}

/**
 * Options of `informers.stream(kind, options)`.
 *
 * @example
 * ```ts
 * informers.stream(Pod, { namespace: 'web', markers: true, signal, bufferSize: 256 });
 * ```
 */
export interface InformerStreamOptions<K> extends InformerOptions<K> {
  /** Also yield `SYNCED` / `RESYNC` markers. Default: `false`. */
  readonly markers?: boolean;
  /** Leaves (ends this stream) when aborted, also before the first pull. Default: none. */
  readonly signal?: AbortSignal;
  /** This subscriber's queue bound (a positive integer). Default: the factory's `bufferSize` (`1024`). */
  readonly bufferSize?: number;
}

/**
 * Options of `new Store(options)`.
 *
 * @example
 * ```ts
 * new Store<Pod>({ transform: dropManagedFields });
 * ```
 */
export interface StoreOptions<T, S> {
  /**
   * Turns each object into what is kept, e.g. without `metadata.managedFields` to save memory.
   * Default: keep the object as it is.
   */
  readonly transform?: (object: T) => S;
}

/**
 * Options of `store.events(options)`. Every default is in `DEFAULTS.storeEvents`.
 *
 * @example
 * ```ts
 * store.events({ signal: AbortSignal.timeout(60_000), bufferSize: 256 });
 * ```
 */
export interface StoreEventsOptions {
  /** Ends the iteration when aborted. Default: none. */
  readonly signal?: AbortSignal;
  /**
   * Changes queued for this iteration before it falls behind: then the queued changes are dropped
   * and replaced, when it pulls again, by the net difference for the objects they touched
   * (`synthetic: true`; intermediate versions skipped, nothing lost). A positive integer. Default: `1024`.
   */
  readonly bufferSize?: number;
}

/** {@link InformerFactoryOptions} with every default applied. */
export interface ResolvedInformerFactoryOptions {
  readonly kubeConfig: KubeConfig | undefined;
  readonly transport: WatchTransport | undefined;
  readonly graceMs: number;
  readonly bufferSize: number;
  readonly watcherOptions: SharedWatcherOptions;
  readonly metrics: MetricsOptions | undefined;
  readonly shard: Shard | undefined;
  readonly clock: Clock;
}

/** {@link InformerOptions}, checked: what identifies a shared watch. */
export interface ResolvedInformerOptions {
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly metadataOnly: boolean;
  /** `undefined`: the factory's; `null`: none. */
  readonly shard: Shard | null | undefined;
}

/** {@link InformerStreamOptions} with every default applied. */
export interface ResolvedInformerStreamOptions extends ResolvedInformerOptions {
  readonly markers: boolean;
  readonly signal: AbortSignal | undefined;
  readonly bufferSize: number;
}

const { string, boolean, positiveInt, nonNegativeMs, signal, function: fn } = optionRules;
const opt = optionalRule;
const { kubeConfig, transport, metrics, clock, shard } = WatcherOptionsShape;
// What SharedWatcherOptions leaves out is an unknown option in `watcherOptions` ("Unknown option `namespace` in
// `watcherOptions`").
const notShared = new Set<string>([
  'namespace',
  'labelSelector',
  'fieldSelector',
  'metadataOnly',
  'resourceVersion',
  'kubeConfig',
  'transport',
  'signal',
  'clock',
  'metrics',
  'shard',
]);
const sharedWatcherOptionsShape: OptionShape = Object.fromEntries(
  Object.entries(WatcherOptionsShape).filter(([key]) => !notShared.has(key)),
);

const InformerFactoryOptionsRule = strictRule({
  kubeConfig,
  transport,
  graceMs: opt(nonNegativeMs),
  bufferSize: opt(positiveInt),
  watcherOptions: opt(strictRule(sharedWatcherOptionsShape)),
  metrics,
  shard,
  clock,
});

const InformerOptionsShape = {
  namespace: opt(nullableRule(string)),
  labelSelector: opt(string),
  fieldSelector: opt(string),
  metadataOnly: opt(boolean),
  shard: opt(nullableRule(shard)),
} as const satisfies OptionShape;

const InformerOptionsRule = strictRule(InformerOptionsShape);

const InformerStreamOptionsRule = strictRule({
  ...InformerOptionsShape,
  markers: opt(boolean),
  signal: opt(signal),
  bufferSize: opt(positiveInt),
});

const StoreOptionsRule = strictRule({ transform: opt(fn) });

const StoreEventsOptionsRule = strictRule({ signal: opt(signal), bufferSize: opt(positiveInt) });

/**
 * Validates `new InformerFactory(options)`'s options — its `watcherOptions` included — and applies the defaults
 * (`DEFAULTS.informers`): an unknown or bad option is a `KwatchError` `INVALID_OPTION` naming it.
 */
export function resolveInformerFactoryOptions(options: InformerFactoryOptions | undefined): ResolvedInformerFactoryOptions {
  checkOptionRule(InformerFactoryOptionsRule, options, 'the InformerFactory options');
  const o = options ?? {};
  return {
    kubeConfig: o.kubeConfig,
    transport: o.transport,
    graceMs: o.graceMs ?? DEFAULTS.informers.graceMs,
    bufferSize: o.bufferSize ?? DEFAULTS.informers.bufferSize,
    watcherOptions: o.watcherOptions ?? {},
    metrics: o.metrics,
    shard: shardOf(o.shard),
    clock: o.clock ?? systemClock,
  };
}

/** Validates the options of `informers.store(kind, options)`: what identifies its shared watch. */
export function resolveInformerOptions<K>(options: InformerOptions<K> | undefined): ResolvedInformerOptions {
  checkOptionRule(InformerOptionsRule, options, 'the informer options');
  return identityOf(options ?? {});
}

/**
 * Validates the options of `informers.stream(kind, options)` and applies the defaults: `markers` from
 * `DEFAULTS.informers`, `bufferSize` the factory's (`factoryBufferSize`).
 */
export function resolveInformerStreamOptions<K>(
  options: InformerStreamOptions<K> | undefined,
  factoryBufferSize: number,
): ResolvedInformerStreamOptions {
  checkOptionRule(InformerStreamOptionsRule, options, 'the informer stream options');
  const o = options ?? {};
  return {
    ...identityOf(o),
    markers: o.markers ?? DEFAULTS.informers.markers,
    signal: o.signal,
    bufferSize: o.bufferSize ?? factoryBufferSize,
  };
}

function identityOf<K>(o: InformerOptions<K>): ResolvedInformerOptions {
  return {
    namespace: (o.namespace as string | null | undefined) ?? undefined,
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    metadataOnly: o.metadataOnly ?? DEFAULTS.watcher.metadataOnly,
    shard: o.shard === null ? null : shardOf(o.shard),
  };
}

/** Validates `new Store(options)`'s options. */
export function resolveStoreOptions<T, S>(options: StoreOptions<T, S> | undefined): StoreOptions<T, S> {
  checkOptionRule(StoreOptionsRule, options, 'the Store options');
  return { ...options };
}

/** Validates `store.events(options)`'s options and applies the defaults (`DEFAULTS.storeEvents`). */
export function resolveStoreEventsOptions(options: StoreEventsOptions | undefined): {
  readonly signal: AbortSignal | undefined;
  readonly bufferSize: number;
} {
  checkOptionRule(StoreEventsOptionsRule, options, 'the store events options');
  return { signal: options?.signal, bufferSize: options?.bufferSize ?? DEFAULTS.storeEvents.bufferSize };
}
