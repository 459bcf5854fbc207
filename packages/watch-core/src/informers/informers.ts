// InformerFactory: shared watches by identity, each with its Store, its subscribers and its request budget.
import {
  type CheckWatchable,
  collectionPath,
  isLazyModel,
  isResourceDescriptor,
  type KubernetesKind,
  type WatchedObject,
  watchTarget,
} from '@kwatch/models';
import type { WatchTransport } from '../client/index.ts';
import { KubeClient } from '../client/index.ts';
import type { PartialObjectMetadata, WatchEvent, WatchMarker } from '../internal/index.ts';
import { type Clock, DEFAULTS } from '../internal/index.ts';
import type { Shard } from '../sharding/index.ts';
import type { WatcherHealth } from '../watch/index.ts';
import {
  type MetricsOptions,
  type ObservedWatch,
  observeInformers,
  PACING,
  Pacer,
  WatcherClass as Watcher,
  watchAttributes,
} from '../watch/index.ts';
import {
  type InformerFactoryOptions,
  type InformerOptions,
  type InformerStreamOptions,
  type ResolvedInformerFactoryOptions,
  type ResolvedInformerOptions,
  resolveInformerFactoryOptions,
  resolveInformerOptions,
  resolveInformerStreamOptions,
  type SharedWatcherOptions,
} from './options.ts';
import { SharedStore } from './sharedStore.ts';
import { SharedWatch } from './sharedWatch.ts';

const shardIds = new WeakMap<Shard, number>();
let lastShardId = 0;
/** A shard's part of a watch identity: fixed ranges by value (their `key`), a ring by identity. */
function shardId(shard: Shard): string {
  if (shard.key !== undefined) return shard.key;
  let id = shardIds.get(shard);
  if (id === undefined) {
    id = ++lastShardId;
    shardIds.set(shard, id);
  }
  return `#${id}`;
}

/** The objects of `K` as the options type them. */
type ObjectsOf<K, O> = O extends { readonly metadataOnly: true } ? PartialObjectMetadata : WatchedObject<K>;

/**
 * One shared watch, as {@link InformerFactory.watches} describes it.
 *
 * @example
 * ```ts
 * const [info] = informers.watches(); console.log(info?.key, info?.holders, info?.health.state);
 * ```
 */
export interface SharedWatchInfo {
  /** The collection path and the selectors. */
  readonly key: string;
  /** Store handles and streams holding it. */
  readonly holders: number;
  readonly health: WatcherHealth;
}

/**
 * Shared watches, as client-go's `SharedInformerFactory`: every `store()` and `stream()` of the same
 * (kind, namespace, selectors, metadataOnly) shares ONE managed watch and one {@link Store}. A
 * subscriber that joins late gets the current state from the store (synthetic ADDED, then `SYNCED`
 * with markers), then the live changes — nothing twice. Each stream subscriber has a bounded queue
 * (`bufferSize`): one that falls behind never holds the others back; its queue is dropped and it is
 * resynced from the store (`RESYNC`, the difference, `SYNCED`), so nothing is lost either. A watch
 * stops `graceMs` after its last subscriber leaves.
 *
 * @example
 * ```ts
 * const informers = new InformerFactory({ graceMs: 3000 });
 * const pods = informers.store(Pod, { namespace: 'web' }).addIndex('byNode', (p) => [p.spec?.nodeName ?? '']);
 * await pods.synced();
 * pods.byIndex('byNode', 'node-1');
 * for await (const e of informers.stream(Pod, { namespace: 'web' })) console.log(e.type, e.object.metadata?.name);
 * pods.release(); // or `using pods = …`
 * ```
 */
export class InformerFactory {
  readonly #options: ResolvedInformerFactoryOptions;
  readonly #clock: Clock;
  readonly #watches = new Map<string, SharedWatch<never>>();
  /** The request budget of each watch identity, kept across re-creations of its watch (see {@link #pacerFor}). */
  readonly #budgets = new Map<string, Budget>();
  #transport: WatchTransport | undefined;
  #metrics: ReturnType<typeof observeInformers> | undefined;

  /** Checks the options (`watcherOptions` included): an unknown or bad one is an `INVALID_OPTION` naming it. */
  constructor(options?: InformerFactoryOptions) {
    this.#options = resolveInformerFactoryOptions(options);
    this.#clock = this.#options.clock;
    const { metrics } = this.#options;
    if (metrics) {
      const now = (): number => this.#clock.now();
      const observed = (): ObservedWatch[] =>
        [...this.#watches.values()].map((w) => ({
          attributes: watchAttributes(metrics, w.watcher.target.info.kind, w.watcher.target.namespace),
          storeObjects: w.store.size,
          subscribers: w.holders,
          maxQueueDepth: w.maxQueueDepth,
          lastEventAt: w.watcher.health().lastEventAt,
        }));
      this.#metrics = observeInformers(metrics, observed, now);
    }
  }

  /**
   * A handle on the shared store of this (kind, namespace, selectors, metadataOnly), kept up to date
   * by the shared watch while any handle or stream holds it. `release()` (or `using`) lets it go. Its
   * `synced()` / `ready()` always settle: in sync, the watch's error, or `ABORTED` after `release()` / `stop()`.
   *
   * @example
   * ```ts
   * using pods = informers.store(Pod, { namespace: 'web' });
   * await pods.synced();
   * pods.get('web', 'web-0');
   * ```
   */
  store<K extends KubernetesKind, const O extends InformerOptions<K> = InformerOptions<K>>(
    kind: K & CheckWatchable<K>,
    options?: O & InformerOptions<K>,
  ): SharedStore<ObjectsOf<K, O>> {
    const watch = this.#shared(kind, resolveInformerOptions(options));
    watch.acquire();
    return new SharedStore(watch.store, () => watch.release()) as unknown as SharedStore<ObjectsOf<K, O>>;
  }

  /**
   * A stream of the shared watch: the current state from the shared store (synthetic ADDED, then
   * `SYNCED` with markers), then every change, nothing twice. Subscribed (holding the watch) when
   * called; `break`, `return()`, `throw()`, `await using` or the `signal` leave at once — also before
   * the first pull, and while a `next()` is pending (it settles done). A subscriber more than
   * `bufferSize` items behind is resynced from the store (with markers: `RESYNC` whose reason is
   * `SUBSCRIBER_OVERFLOW`, the difference — tombstones for what vanished —, `SYNCED`); its first
   * `SYNCED` is always `initial: true`, even if it overflowed during the initial sync (then without
   * `RESYNC`). It rejects when the shared watch fails for good (403, …), and ends when the factory stops.
   *
   * @example
   * ```ts
   * for await (const e of informers.stream(Pod, { namespace: 'web', markers: true })) {
   *   if (e.type === 'SYNCED') console.log('up to date');
   *   else if (e.type !== 'RESYNC') console.log(e.type, e.object.metadata?.name);
   * }
   * ```
   */
  stream<K extends KubernetesKind, const O extends InformerStreamOptions<K> = InformerStreamOptions<K>>(
    kind: K & CheckWatchable<K>,
    options?: O & InformerStreamOptions<K>,
  ): AsyncGenerator<
    O extends { readonly markers: true } ? WatchEvent<ObjectsOf<K, O>> | WatchMarker : WatchEvent<ObjectsOf<K, O>>,
    void,
    undefined
  > {
    const o = resolveInformerStreamOptions(options, this.#options.bufferSize);
    const watch = this.#shared(kind, o);
    const stream = watch.subscribe({ markers: o.markers, bufferSize: o.bufferSize, signal: o.signal });
    return stream as never;
  }

  /**
   * The running shared watches.
   *
   * @example
   * ```ts
   * for (const w of informers.watches()) console.log(w.key, w.holders, w.health.state);
   * ```
   */
  watches(): SharedWatchInfo[] {
    return [...this.#watches].map(([key, w]) => ({ key, holders: w.holders, health: w.watcher.health() }));
  }

  /**
   * Stops every shared watch at once; their streams and `store.events()` iterations end, their stores
   * stop following the server: pending and later `synced()` reject with `ABORTED` (and `ready()` if the
   * initial state was not in). Request budgets are kept (a watch opened again draws from its identity's).
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => informers.stop());
   * ```
   */
  stop(): void {
    for (const w of [...this.#watches.values()]) w.stop();
  }

  /** Stops every shared watch on `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }

  #shared<K extends KubernetesKind>(kind: K, options: ResolvedInformerOptions): SharedWatch<never> {
    const { namespace, labelSelector, fieldSelector, metadataOnly } = options;
    const shard = options.shard === null ? undefined : (options.shard ?? this.#options.shard);
    const target = watchTarget(kind as never, { namespace: namespace as never });
    const key = JSON.stringify([
      collectionPath(target.info, target.namespace),
      labelSelector ?? '',
      fieldSelector ?? '',
      metadataOnly,
      ...(shard ? [shardId(shard)] : []),
    ]);
    // One watch per collection and adopting class: a subclass (or kubernetes-models' own class) gets objects of its own
    // class, never those of whoever asked first. Stand-ins, list classes and descriptors share the default watch.
    const own = adoptsOwnClass(kind, target.info) ? `#${classId(kind as object)}` : '';
    const entry = own ? `${key}${own}` : key;
    const existing = this.#watches.get(entry);
    if (existing && !existing.ended) return existing;
    const watcher = new Watcher(
      kind as never,
      {
        ...this.#options.watcherOptions,
        namespace: namespace as never,
        ...(labelSelector !== undefined && { labelSelector }),
        ...(fieldSelector !== undefined && { fieldSelector }),
        metadataOnly,
        ...(this.#options.metrics && { metrics: this.#options.metrics }),
        ...(shard && { shard }),
        transport: this.#transportFor(),
        clock: this.#clock,
      },
      { pacer: this.#pacerFor(key) },
    ) as unknown as Watcher<never, never>;
    const watch: SharedWatch<never> = new SharedWatch(watcher, {
      graceMs: this.#options.graceMs,
      bufferSize: this.#options.bufferSize,
      clock: this.#clock,
      onOverflow: overflowCounter(this.#metrics, this.#options.metrics, watcher),
      onEnd: () => {
        if (this.#watches.get(entry) === watch) this.#watches.delete(entry);
        const budget = this.#budgets.get(key);
        if (budget) budget.idleSince = this.#clock.now();
      },
    });
    this.#watches.set(entry, watch);
    return watch;
  }

  /**
   * The request budget of watch identity `key`: one {@link Pacer} for every watch the factory opens
   * for it, so that a watch that failed and is opened again (a `store(); await synced(); release()`
   * retry loop against a 403) draws from the same bucket — at most 10 + 5·T requests in T seconds.
   * The map stays bounded: a budget no watch uses is dropped once it is worth no more than a new one
   * (its bucket full again, no failure to remember — or its backoff forgotten, after `resetAfterMs`).
   */
  #pacerFor(key: string): Pacer {
    const now = this.#clock.now();
    for (const [k, b] of this.#budgets) {
      if (k !== key && !this.#watches.has(k) && budgetIsSpent(b, now, this.#options.watcherOptions)) this.#budgets.delete(k);
    }
    let budget = this.#budgets.get(key);
    if (budget && budgetIsSpent(budget, now, this.#options.watcherOptions)) budget = undefined;
    if (!budget) {
      budget = { pacer: new Pacer(this.#clock, this.#options.watcherOptions.backoff), idleSince: undefined };
      this.#budgets.set(key, budget);
    }
    budget.idleSince = undefined;
    return budget.pacer;
  }

  #transportFor(): WatchTransport {
    this.#transport ??=
      this.#options.transport ??
      new KubeClient({ kubeConfig: this.#options.kubeConfig, http2: this.#options.watcherOptions.http2 });
    return this.#transport;
  }
}

/** A watch identity's request budget, and since when no watch uses it (`undefined`: in use). */
interface Budget {
  readonly pacer: Pacer;
  idleSince: number | undefined;
}

/** Time for an idle bucket to fill up again, in ms. */
const REFILL_MS = (PACING.burst / PACING.perSecond) * 1000;

/** True when an idle budget is worth no more than a new one: its bucket is full, and it has no failure to remember. */
function budgetIsSpent(budget: Budget, now: number, options: SharedWatcherOptions): boolean {
  if (budget.idleSince === undefined) return false;
  const idleMs = now - budget.idleSince;
  if (idleMs < REFILL_MS) return false;
  return budget.pacer.consecutiveFailures === 0 || idleMs >= (options.backoff?.resetAfterMs ?? DEFAULTS.backoff.resetAfterMs);
}

/** Counts a subscriber's overflow, when there are metrics. */
function overflowCounter(
  m: ReturnType<typeof observeInformers> | undefined,
  options: MetricsOptions | undefined,
  watcher: Watcher<never, never>,
): (() => void) | undefined {
  if (!m || !options) return undefined;
  const attributes = watchAttributes(options, watcher.target.info.kind, watcher.target.namespace);
  return () => m.overflows.add(1, attributes);
}

const classIds = new WeakMap<object, number>();
let nextClassId = 0;

/** A number per class, for the watch key of a class that adopts its own objects. */
function classId(cls: object): number {
  let id = classIds.get(cls);
  if (id === undefined) {
    id = ++nextClassId;
    classIds.set(cls, id);
  }
  return id;
}

/**
 * Whether a watch of `kind` gives objects of a class of its own: a class that is not a lazy stand-in, a list class or
 * a descriptor (those all adopt the kind's default class or stay plain), such as a user's subclass.
 */
function adoptsOwnClass(kind: unknown, info: { kind: string; apiVersion: string }): boolean {
  if (typeof kind !== 'function' || isResourceDescriptor(kind) || isLazyModel(kind)) return false;
  const k = kind as { kind?: unknown; apiVersion?: unknown };
  return k.kind === info.kind && k.apiVersion === info.apiVersion;
}
