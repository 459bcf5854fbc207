// Controller: one kind's shared informer feeding a WorkQueue, and workers that reconcile keys level-triggered.
import type { CheckWatchable, KubernetesKind, WatchedObject } from '@kwatch/models';
import { describeKind } from '@kwatch/models';
import {
  type HealthServer,
  type HealthServerOptions,
  type LeaderElectionOptions,
  LeaderElector,
  startHealthServer,
} from '@kwatch/toolkit';
import type { InformerFactoryOptions, InformerOptions, Kubeconfig, MetricsOptions, Shard, ShardOption } from '@kwatch/watch-core';
import { InformerFactory, inRanges, isMarker, KubeClient, KwatchError, staticShard } from '@kwatch/watch-core';
import { WorkQueue, type WorkQueueOptions } from '../queue/index.ts';
import { applyFinalizer, type FinalizerOptions, objectPath } from './finalizer.ts';
import { type ControllerRecorder, controllerMetrics } from './metrics.ts';
import { cacheHolds, compareResourceVersions, ReconcileClient, type Write } from './readYourWrites.ts';
import { EventRecorder } from './recorder.ts';

/**
 * A kind whose changes enqueue keys of the controller's kind: `map` gives them for an object (before or after a change).
 * Made with {@link related}, which types `map`'s object.
 *
 * @example
 * ```ts
 * watches: [related(Namespace, (ns) => [`${ns.metadata?.name}/settings`])]
 * ```
 */
export interface Relation {
  readonly kind: KubernetesKind;
  readonly map: (object: never) => Iterable<string>;
}

/**
 * A {@link Relation}: changes of `kind` enqueue the keys (`namespace/name` of the controller's kind) that `map` gives.
 *
 * @example
 * ```ts
 * new Controller(ConfigMap, { watches: [related(Namespace, (ns) => [`${ns.metadata?.name}/settings`])], reconcile });
 * ```
 */
export function related<R extends KubernetesKind>(
  kind: R & CheckWatchable<R>,
  map: (object: WatchedObject<R>) => Iterable<string>,
): Relation {
  return { kind, map: map as (object: never) => Iterable<string> };
}

/** The keys of the controller objects of `info`'s kind that own `object` (`ownerReferences` with `controller: true`). */
function ownersOf(object: never, info: { group: string; kind: string; namespaced: boolean }): string[] {
  const meta = (
    object as {
      metadata?: {
        namespace?: string;
        ownerReferences?: Array<{ apiVersion?: string; kind?: string; name?: string; controller?: boolean }>;
      };
    }
  ).metadata;
  const keys: string[] = [];
  for (const ref of meta?.ownerReferences ?? []) {
    if (!ref.controller || ref.kind !== info.kind || !ref.name) continue;
    const group = ref.apiVersion?.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
    if (group !== info.group) continue;
    keys.push(`${info.namespaced ? (meta?.namespace ?? '') : ''}/${ref.name}`);
  }
  return keys;
}

/**
 * Thrown by a reconcile that must not be retried (a spec that can never be satisfied): the key's backoff is reset and
 * it runs again only when it changes. Any other error retries with the queue's backoff.
 *
 * @example
 * ```ts
 * if (!object.data?.target) throw new TerminalError('no target: nothing to mirror');
 * ```
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/**
 * What a reconcile is given: the key, the object from the shared cache (`undefined` once it is gone), and a signal
 * aborted when the controller stops or the reconcile times out.
 *
 * @example
 * ```ts
 * reconcile: async ({ key, object, signal }) => { if (!object) return; await mirror(object, { signal }); }
 * ```
 */
export interface ReconcileContext<T> {
  /** `namespace/name` (`/name` for cluster-scoped kinds). */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** The object as the shared cache holds it now; `undefined` when it does not exist (deleted). Do not mutate it. */
  readonly object: T | undefined;
  /** Aborted when the controller stops or this reconcile times out. */
  readonly signal: AbortSignal;
  /** Failures in a row of this key before this run (0 on a first try or after a success). */
  readonly retries: number;
  /** Writes through it are seen by this key's next reconcile (read-your-writes). */
  readonly client: ReconcileClient;
  /** Records events.k8s.io Events about objects, repeated ones as a series. */
  readonly recorder: EventRecorder;
}

/**
 * What a reconcile returns: nothing (done until the object changes) or `{ requeueAfterMs }` (run again then, as
 * controller-runtime's `RequeueAfter`).
 *
 * @example
 * ```ts
 * return { requeueAfterMs: 60_000 }; // check again in a minute
 * ```
 */
export type ReconcileResult = undefined | { readonly requeueAfterMs?: number };

/**
 * Options of a {@link Controller}.
 *
 * @example
 * ```ts
 * new Controller(ConfigMap, { namespace: 'web', labelSelector: 'mirror=yes', concurrency: 4, reconcile });
 * ```
 */
export interface ControllerOptions<T> {
  /** Reconciles one key; throws to retry with backoff, throws {@link TerminalError} not to. */
  readonly reconcile: (context: ReconcileContext<T>) => Promise<ReconcileResult | undefined> | ReconcileResult | undefined;
  /** Watch within this namespace; `''` or none watches all namespaces. Default: all namespaces. */
  readonly namespace?: string;
  /** A label selector. Default: none. */
  readonly labelSelector?: string;
  /** A field selector. Default: none. */
  readonly fieldSelector?: string;
  /**
   * Kinds whose objects this kind controls (an `ownerReference` with `controller: true` to an object of this kind):
   * a change to one enqueues its owner. Watched in the same namespace, through the same shared informers. Default: none.
   */
  readonly owns?: readonly KubernetesKind[];
  /** Other kinds whose changes enqueue the keys their `map` gives (see {@link related}). Default: none. */
  readonly watches?: readonly Relation[];
  /** Keys reconciled at once (different keys; one key never twice at once). Default: `1`, as controller-runtime. */
  readonly concurrency?: number;
  /**
   * A reconcile running longer is aborted (its `signal`) and counted a failure (retried with backoff); its key is not
   * run again before the running call settles. Default: none.
   */
  readonly reconcileTimeoutMs?: number;
  /**
   * Reconcile only the objects whose uid hash is in this shard's ranges: a `ShardRing` shared by the replicas of this
   * controller splits its objects between them (docs/scaling.md). The primary kind's watch is sharded; owned and
   * watched kinds are watched whole, and enqueue only keys whose object this replica holds. When a range is lost, its
   * keys are no longer started, running reconciles of them are aborted (their `signal`, reason `RESHARDED`), and its
   * objects are not mistaken for deleted ones. Default: none (every object; the factory's own `shard` if it has one).
   */
  readonly shard?: ShardOption;
  /** The shared informers to watch through (one watch per kind for every controller on it). Default: a new factory. */
  readonly informers?: InformerFactory;
  /**
   * The cluster: a client-node `KubeConfig` or kwatch's own (`readKubeconfig()`), as for a `Watcher`. The controller's
   * writes and (without `informers`) its watches share one connection to it. Default: the default kubeconfig or the
   * in-cluster service account.
   */
  readonly kubeConfig?: InformerFactoryOptions['kubeConfig'] | Kubeconfig;
  /** The queue's backoff, token bucket and aging. Default: see {@link WorkQueueOptions}. */
  readonly queue?: WorkQueueOptions;
  /**
   * A finalizer managed for the reconcile: added before it first acts on an object, its `cleanup` run and the
   * finalizer removed when the object is being deleted (see {@link FinalizerOptions}). Default: none.
   */
  readonly finalizer?: FinalizerOptions<T>;
  /** The controller's name: its Events' `reportingController`, its metrics' label. Default: `kwatch-<plural>-controller`. */
  readonly name?: string;
  /**
   * OpenTelemetry instruments on your `Meter` under client-go's workqueue names (`workqueue_depth`,
   * `workqueue_adds_total`, `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`,
   * `workqueue_retries_total`, `workqueue_unfinished_work_seconds`, `workqueue_longest_running_processor_seconds`,
   * label `name`) and controller-runtime's (`controller_runtime_reconcile_total` by `result`,
   * `controller_runtime_reconcile_errors_total`, `controller_runtime_reconcile_time_seconds`,
   * `controller_runtime_max_concurrent_reconciles`, `controller_runtime_active_workers`, label `controller`).
   * Default: none.
   */
  readonly metrics?: { readonly meter: MetricsOptions['meter'] };
  /**
   * Told of every failed reconcile (after it is requeued, or not for a {@link TerminalError}). A reconcile ended by
   * the controller's stop or by its key moving to another replica's shard is not a failure: not told, not counted in
   * the error metrics, not requeued. Default: none.
   */
  readonly onError?: (error: unknown, key: string) => void;
  /**
   * Read-your-writes: a key's reconcile does not start before the shared caches hold what the key's previous
   * reconcile wrote through its `client` (the written resourceVersion or newer) to objects of the watched kinds (the
   * controller's, `owns`, `watches`; in the namespaces they cover). A write to an object its cache filters out (by the
   * label or field selector) is waited for until `readYourWritesTimeoutMs`. `false` turns it off. Default: `true`.
   */
  readonly readYourWrites?: boolean;
  /**
   * How long a reconcile waits for the cache to see the previous one's writes; past it, the object is read from the
   * server instead of the cache. Default: `10000`.
   */
  readonly readYourWritesTimeoutMs?: number;
}

/**
 * Options of {@link Controller.run}.
 *
 * @example
 * ```ts
 * await controller.run({ signal, leaderElection: { namespace: 'web', name: 'mirror' }, healthPort: 8080 });
 * ```
 */
export interface RunOptions {
  /** Stops the controller: nothing new starts, running reconciles are aborted and awaited. Default: none. */
  readonly signal?: AbortSignal;
  /** How long `run()` waits, after the signal, for running reconciles to settle. Default: `30000`. */
  readonly drainTimeoutMs?: number;
  /**
   * Reconcile only while this replica holds a coordination.k8s.io Lease (toolkit's `LeaderElector`). Caches are
   * watched and warm before leadership, so a new leader starts at once; losing the lease stops the controller and
   * `run()` rejects with `ABORTED` (the caller restarts or exits, as controller-runtime does). Default: none.
   */
  readonly leaderElection?: Omit<LeaderElectionOptions, 'kubeConfig' | 'client' | 'onStartedLeading'>;
  /**
   * Serves `/livez`, `/readyz` (ready once the caches are synced — or as a leader-election standby) and `/healthz`
   * on this port of 127.0.0.1 while running (`0`: a free port, see {@link Controller.healthUrl}). Default: none.
   */
  readonly healthPort?: number;
  /**
   * Answers `GET /metrics` on the health port (with `healthPort`): e.g. `prometheusMetrics().handler` from
   * `@kwatch/toolkit`, the exposition `kwatch --metrics` serves, with the controller's `metrics.meter` recording into
   * it. Default: no `/metrics`.
   */
  readonly metrics?: HealthServerOptions['metrics'];
}

/** Figures of a controller, for tests and health. */
export interface ControllerStats {
  /** Reconciles started. */
  readonly reconciles: number;
  /** Reconciles that threw (retried or terminal). */
  readonly failures: number;
  /** Reconciles running now. */
  readonly running: number;
  /** Keys waiting in the queue. */
  readonly queued: number;
  /** Reconciles that waited for the cache to see their key's previous writes. */
  readonly cacheWaits: number;
  /** Reconciles that gave up waiting and read their object from the server. */
  readonly serverReads: number;
}

/**
 * A level-triggered controller of one kind: every change of an object (and every object of the initial list, at low
 * priority) enqueues its key; `concurrency` workers take keys from a {@link WorkQueue} and call `reconcile` with the
 * object as the shared cache holds it at that moment. A key is never reconciled twice at once; changes that come while
 * it runs make one more run after it; failures retry with per-key exponential backoff under an overall token bucket.
 *
 * @example
 * ```ts
 * const controller = new Controller(ConfigMap, {
 *   namespace: 'web',
 *   reconcile: async ({ object }) => { if (object) await ensureMirror(object); },
 * });
 * await controller.run({ signal: AbortSignal.timeout(60_000) });
 * ```
 */
export class Controller<K extends KubernetesKind> {
  readonly #kind: K;
  readonly #options: ControllerOptions<WatchedObject<K>>;
  readonly #queue: WorkQueue<string>;
  readonly #metrics: ControllerRecorder | undefined;
  #reconciles = 0;
  #failures = 0;
  #cacheWaits = 0;
  #serverReads = 0;
  #running = false;
  /** Per key, what its last reconcile wrote to objects of the watched kind (waited for before its next one). */
  readonly #written = new Map<string, Write[]>();
  /** The objects (`resource namespace/name`) pending writes name, and how many keys' pending writes name each. */
  readonly #targets = new Map<string, number>();
  /**
   * Deletions the caches saw of objects that pending writes name: the deletion's resourceVersion. An object written
   * and then deleted is never in its cache at the written version; its deletion after the write is what holds it.
   */
  readonly #deletions = new Map<string, string>();
  #health: HealthServer | undefined;
  /** The caches read-your-writes can wait on: per `group/plural`, the store and which namespaces it covers. */
  readonly #caches = new Map<string, { get(ns: string | undefined, name: string): unknown; namespace: string | undefined }>();
  #cachesSynced = false;
  #leading = false;
  /** The shard, if any (a ring, or fixed ranges). */
  readonly #shard: Shard | undefined;
  /**
   * Sharded: each key's uid as last seen (kept when its object leaves the shard, dropped when it is deleted), so that a
   * key whose object moved to another replica is never mistaken for a deleted one, whatever the cache holds by then.
   */
  readonly #uids = new Map<string, string>();
  /** The running reconciles' abort controllers, by key (a key leaving the shard aborts its run). */
  readonly #runs = new Map<string, AbortController>();

  /** Checks the options (an `INVALID_OPTION` naming what is wrong; the queue's as {@link WorkQueue} does). */
  constructor(kind: K & CheckWatchable<K>, options: ControllerOptions<WatchedObject<K>>) {
    if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency > 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`concurrency\` to be a positive integer, got ${options.concurrency}`);
    }
    const timeout = options.reconcileTimeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`reconcileTimeoutMs\` to be a positive number, got ${timeout}`);
    }
    if (typeof options.reconcile !== 'function') {
      throw new KwatchError('INVALID_OPTION', 'Expected `reconcile` to be a function');
    }
    const ryw = options.readYourWritesTimeoutMs;
    if (ryw !== undefined && !(Number.isFinite(ryw) && ryw >= 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`readYourWritesTimeoutMs\` to be a non-negative number, got ${ryw}`);
    }
    const finalizer = options.finalizer;
    if (finalizer !== undefined && !(typeof finalizer.name === 'string' && finalizer.name !== '')) {
      throw new KwatchError(
        'INVALID_OPTION',
        `Expected \`finalizer.name\` to be a finalizer name (example.com/cleanup), got ${finalizer.name}`,
      );
    }
    if (finalizer !== undefined && typeof finalizer.cleanup !== 'function') {
      throw new KwatchError('INVALID_OPTION', 'Expected `finalizer.cleanup` to be a function');
    }
    const shard = options.shard;
    if (shard !== undefined && !Array.isArray(shard) && typeof (shard as Shard).ranges !== 'function') {
      throw new KwatchError(
        'INVALID_OPTION',
        'Expected `shard` to be a ShardRing (a Shard) or an array of { start, end } ranges',
      );
    }
    this.#shard = shard === undefined ? undefined : Array.isArray(shard) ? staticShard(shard) : (shard as Shard);
    this.#kind = kind;
    this.#options = options;
    const metrics = options.metrics
      ? controllerMetrics(options.metrics.meter, options.name ?? `kwatch-${describeKind(kind).plural}-controller`, {
          depth: () => this.#queue.length,
          running: () => this.#queue.runningFor(),
          concurrency: options.concurrency ?? 1,
        })
      : undefined;
    this.#metrics = metrics;
    this.#queue = new WorkQueue<string>({ ...options.queue, ...(metrics ? { observer: metrics.queue } : {}) });
  }

  /** What the controller has done so far. */
  get stats(): ControllerStats {
    return {
      reconciles: this.#reconciles,
      failures: this.#failures,
      running: this.#queue.running,
      queued: this.#queue.length,
      cacheWaits: this.#cacheWaits,
      serverReads: this.#serverReads,
    };
  }

  /** The URL of the health server while `run({ healthPort })` runs (e.g. `http://127.0.0.1:8080`); else `undefined`. */
  get healthUrl(): string | undefined {
    return this.#health?.url;
  }

  /** True while this replica reconciles (always, without leader election; with it, while it leads). */
  get isLeading(): boolean {
    return this.#leading;
  }

  /**
   * Watches, reconciles, until `signal` aborts; then starts nothing more, aborts the running reconciles and waits for
   * them (at most `drainTimeoutMs`), and resolves. Rejects when the watch fails for good (403, a deleted kind).
   * Runs once per controller.
   */
  async run(options: RunOptions = {}): Promise<void> {
    if (this.#running) throw new KwatchError('ALREADY_STREAMING', 'This controller is already running');
    const drain = options.drainTimeoutMs;
    if (drain !== undefined && !(Number.isFinite(drain) && drain >= 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`drainTimeoutMs\` to be a non-negative number, got ${drain}`);
    }
    this.#running = true;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const ownFactory = this.#options.informers === undefined;
    // One client for the writes and (a factory of its own) the watches: one connection. That factory records its
    // watches' metrics on the controller's meter too.
    const client = new KubeClient(this.#options.kubeConfig ? { kubeConfig: this.#options.kubeConfig } : {});
    const informers =
      this.#options.informers ??
      new InformerFactory({
        transport: client,
        ...(this.#options.metrics ? { metrics: { meter: this.#options.metrics.meter } } : {}),
      });
    const namespace = this.#options.namespace || undefined;
    const selection = {
      ...(namespace ? { namespace } : {}),
      ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
      ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
      ...(this.#shard ? { shard: this.#shard } : {}),
    } as InformerOptions<K>;
    const kind = this.#kind as K & CheckWatchable<K>;
    const info = describeKind(kind);
    const store = informers.store(kind, selection as never);
    const stores: Array<{ synced(): Promise<void>; release(): void }> = [store];
    this.#caches.set(`${info.group}/${info.plural}`, {
      get: (ns, n) => store.get(ns, n),
      namespace: info.namespaced ? namespace : undefined,
    });
    const queue = this.#queue;
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown): void => {
      if (!stop.signal.aborted) failure ??= { error };
      stop.abort(error);
    };
    const feeds: Promise<void>[] = [];
    let recorder: EventRecorder | undefined;
    let elector: LeaderElector | undefined;
    // A key whose range is lost: its running reconcile is aborted at once, not when the sync of the new ranges ends.
    const unsubscribe = this.#shard?.subscribe(() => this.#abortMoved());
    try {
      feeds.push(this.#feedPrimary(informers, kind, selection, stop.signal).catch(fail));
      // Related kinds: the namespace only (not the primary's selectors); a change enqueues the keys it maps to.
      const related = [
        ...(this.#options.owns ?? []).map((owned) => ({ kind: owned, map: (o: never) => ownersOf(o, info) })),
        ...(this.#options.watches ?? []),
      ];
      for (const r of related) {
        // Related kinds are never sharded (an owned object's uid says nothing of its owner's shard).
        const scoped = { ...(describeKind(r.kind).namespaced && namespace ? { namespace } : {}), shard: null };
        const s = informers.store(r.kind as K & CheckWatchable<K>, scoped as never);
        stores.push(s);
        const rInfo = describeKind(r.kind);
        this.#caches.set(`${rInfo.group}/${rInfo.plural}`, {
          get: (ns, n) => s.get(ns, n),
          namespace: rInfo.namespaced ? namespace : undefined,
        });
        const mine = this.#shard ? (key: string) => store.get(...splitKey(key)) !== undefined : () => true;
        const resource = `${rInfo.group}/${rInfo.plural}`;
        feeds.push(this.#feedRelated(s, resource, r.map as (o: unknown) => Iterable<string>, mine, stop.signal).catch(fail));
      }
      // Caches warm before any reconcile reads them (controller-runtime's WaitForCacheSync).
      const aborted = new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (options.healthPort !== undefined) {
        this.#health = await startHealthServer({
          port: options.healthPort,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          sources: () =>
            informers.watches().map((w) => ({
              name: w.key,
              health: () => w.health,
              // Ready once the caches are warm: a leader-election standby is ready too (it can take over at once).
              ready: () => this.#cachesSynced,
            })),
        });
      }
      await Promise.race([Promise.all(stores.map((s) => s.synced())).catch(fail), aborted]);
      this.#cachesSynced = !stop.signal.aborted;
      if (options.leaderElection && !stop.signal.aborted) {
        // Caches are warm; now wait to lead. Losing the lease stops everything.
        const leading = new Promise<void>((resolve) => {
          elector = new LeaderElector({
            ...options.leaderElection,
            client,
            onStartedLeading: (leadership) => {
              this.#leading = true;
              leadership.addEventListener(
                'abort',
                () => {
                  this.#leading = false;
                  const name = `${options.leaderElection?.namespace}/${options.leaderElection?.name}`;
                  fail(new KwatchError('ABORTED', `Lost the leadership of lease ${name}; the controller stopped`));
                },
                { once: true },
              );
              resolve();
            },
          } as LeaderElectionOptions);
          void elector.run().catch(fail);
        });
        await Promise.race([leading, aborted]);
      } else this.#leading = !stop.signal.aborted;
      recorder = new EventRecorder(client, {
        controller: this.#options.name ?? `kwatch-${info.plural}-controller`,
        onError: (error) => this.#reportError(error, ''),
      });
      const events = recorder;
      const workers = stop.signal.aborted
        ? []
        : Array.from({ length: this.#options.concurrency ?? 1 }, () => this.#work(store, client, events, stop.signal, inFlight));
      await aborted;
      queue.shutDown();
      await Promise.all(feeds);
      // Workers end once their running reconcile settles: bounded by the drain timeout too (a reconcile may hang).
      const drained = Promise.all(workers)
        .then(() => Promise.all(inFlight))
        .then(() => queue.drain());
      const limit = options.drainTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, limit)))]);
      clearTimeout(timer);
      await recorder?.flush();
    } finally {
      unsubscribe?.();
      options.signal?.removeEventListener('abort', onAbort);
      this.#leading = false;
      await elector?.stop();
      await this.#health?.close();
      this.#health = undefined;
      for (const s of stores) s.release();
      if (ownFactory) informers.stop();
    }
    if (failure) throw failure.error;
  }

  /**
   * Every object of the primary kind, and every change: its key. The keys of a sync (the initial list, or a resync
   * after 410 or a reshard) are held until its `SYNCED` and then enqueued `low`: the shared store applies a resync at
   * once at its end, so a reconcile started before it would read the state from before — an object listed anew as
   * absent, a changed one as it was — and nothing would enqueue its key again. Live changes are enqueued `high`.
   */
  async #feedPrimary(
    informers: InformerFactory,
    kind: K & CheckWatchable<K>,
    selection: object,
    signal: AbortSignal,
  ): Promise<void> {
    let held: Set<string> | undefined = new Set();
    const info = describeKind(kind);
    const resource = `${info.group}/${info.plural}`;
    const events = informers.stream(kind, { ...selection, markers: true, signal } as never) as AsyncIterable<{
      type: string;
      tombstone?: boolean;
      object?: { metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string } };
    }>;
    for await (const e of events) {
      if (isMarker(e as never)) {
        if (e.type === 'RESYNC') held ??= new Set();
        else if (held) {
          for (const key of held) this.#queue.add(key, 'low');
          held = undefined;
        }
        continue;
      }
      const meta = e.object?.metadata;
      const key = `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
      if (this.#shard) {
        if (e.tombstone && !inRanges(meta?.uid, this.#shard.ranges())) {
          // It left this replica's shard; it was not deleted: another replica takes it over.
          this.#runs.get(key)?.abort(new KwatchError('RESHARDED', `${key} moved to another replica's shard`));
          held?.delete(key);
          continue;
        }
        if (e.type === 'DELETED') this.#uids.delete(key);
        else if (meta?.uid) this.#uids.set(key, meta.uid);
      }
      if (e.type === 'DELETED') this.#sawDeletion(resource, meta);
      if (held) held.add(key);
      else this.#queue.add(key, 'high');
    }
  }

  /** Every change of a related kind: the keys `map` gives for the object before and after it. */
  async #feedRelated(
    store: {
      isReady: boolean;
      events(options: { signal: AbortSignal }): AsyncIterable<{ type: string; object: unknown; old: unknown }>;
    },
    resource: string,
    map: (object: unknown) => Iterable<string>,
    mine: (key: string) => boolean,
    signal: AbortSignal,
  ): Promise<void> {
    for await (const change of store.events({ signal })) {
      const priority = store.isReady ? 'high' : 'low';
      if (change.type === 'DELETED') this.#sawDeletion(resource, (change.object as { metadata?: ObjectMeta }).metadata);
      for (const object of [change.object, change.old]) {
        if (object === undefined) continue;
        for (const key of map(object)) if (mine(key)) this.#queue.add(key, priority);
      }
    }
  }

  /** One worker: takes keys until the queue shuts down; a reconcile that times out frees the worker, not its key. */
  async #work(
    store: { get(ns: string | undefined, name: string): unknown },
    kube: KubeClient,
    recorder: EventRecorder,
    stopped: AbortSignal,
    inFlight: Set<Promise<void>>,
  ): Promise<void> {
    const queue = this.#queue;
    const info = describeKind(this.#kind);
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      if (stopped.aborted) {
        // Handed out as the controller stopped: nothing starts after the signal (its abort would not reach it).
        queue.done(key);
        return;
      }
      const slash = key.indexOf('/');
      const namespace = slash > 0 ? key.slice(0, slash) : undefined;
      const name = key.slice(slash + 1);
      const retries = queue.failures(key);
      if (this.#shard && !this.#ownsKey(key, store)) {
        // Not this replica's (any more): the replica that owns it reconciles it.
        queue.forget(key);
        queue.done(key);
        continue;
      }
      const run = new AbortController();
      const onStop = (): void => run.abort(stopped.reason);
      stopped.addEventListener('abort', onStop, { once: true });
      this.#runs.set(key, run);
      this.#reconciles += 1;
      const current = key;
      const startedAt = Date.now();
      /** `ended`: stopped by the controller's stop or by its key moving to another replica — not a failure. */
      let outcome: 'success' | 'error' | 'requeue_after' | 'ended' = 'success';
      // The key stays running until the call settles, even past a timeout: never two reconciles of one key at once.
      // Each write's object is watched for its deletion from the moment it is made (see #deletions).
      const client = new ReconcileClient(kube, (w) => this.#retain(w));
      const call = (async () => {
        try {
          let object = await this.#objectFor(current, namespace, name, store, kube, info, run.signal);
          const finalizer = this.#options.finalizer;
          if (finalizer && object !== undefined) {
            const path = objectPath(info, namespace, name);
            const step = await applyFinalizer(finalizer, current, object as WatchedObject<K>, path, client, run.signal);
            if (!step.proceed) {
              queue.forget(current);
              return;
            }
            object = step.object;
          }
          const result = await this.#options.reconcile({
            key: current,
            namespace,
            name,
            object: object as WatchedObject<K> | undefined,
            signal: run.signal,
            retries,
            client,
            recorder,
          });
          if (run.signal.aborted && !stopped.aborted) throw run.signal.reason; // timed out: its result is not trusted
          queue.forget(current);
          const after = result?.requeueAfterMs;
          if (after !== undefined && after >= 0) {
            queue.addAfter(current, after);
            outcome = 'requeue_after';
          }
        } catch (error) {
          const reason: unknown = run.signal.reason;
          if (run.signal.aborted && (stopped.aborted || (reason instanceof KwatchError && reason.code === 'RESHARDED'))) {
            // Ended from outside (the controller stopping, the key moving away): not the reconcile's failure, so no
            // onError, no error metric, no backoff. A stopping queue takes no key; a moved key is another's now.
            outcome = 'ended';
            queue.forget(current);
          } else {
            outcome = 'error';
            this.#failures += 1;
            if (error instanceof TerminalError) queue.forget(current);
            else queue.addRateLimited(current);
            this.#reportError(error, current);
          }
        } finally {
          stopped.removeEventListener('abort', onStop);
          if (this.#runs.get(current) === run) this.#runs.delete(current);
          if (outcome !== 'ended') this.#metrics?.reconciled(outcome, Date.now() - startedAt);
          // What this run wrote to objects of the watched kind: the key's next run waits until the cache holds it.
          // (Of a watched kind, in a namespace its cache covers; writes elsewhere are not read from a cache.)
          const writes = client.writes.filter((w) => {
            const cache = this.#caches.get(w.resource);
            return cache !== undefined && (cache.namespace === undefined || cache.namespace === w.namespace);
          });
          const kept = writes.length > 0 && this.#options.readYourWrites !== false;
          if (kept) this.#takeWritten(current);
          for (const w of client.writes) if (!kept || !writes.includes(w)) this.#release(w);
          if (kept) this.#written.set(current, writes);
          queue.done(current);
        }
      })();
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
      const timeout = this.#options.reconcileTimeoutMs;
      if (timeout === undefined) {
        await call;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        call,
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            run.abort(new KwatchError('ABORTED', `The reconcile of ${current} took longer than ${timeout} ms`));
            resolve();
          }, timeout);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** A write was made (by a running reconcile): its object's deletion is remembered until it is released. */
  #retain(w: Write): void {
    const target = writeTarget(w.resource, w.namespace, w.name);
    this.#targets.set(target, (this.#targets.get(target) ?? 0) + 1);
  }

  /** A write no longer waited for: the deletion seen of its object is forgotten once no other write names it. */
  #release(w: Write): void {
    const target = writeTarget(w.resource, w.namespace, w.name);
    const n = (this.#targets.get(target) ?? 1) - 1;
    if (n > 0) this.#targets.set(target, n);
    else {
      this.#targets.delete(target);
      this.#deletions.delete(target);
    }
  }

  /** Forgets `key`'s pending writes (waited for, or read past). */
  #takeWritten(key: string): void {
    for (const w of this.#written.get(key) ?? []) this.#release(w);
    this.#written.delete(key);
  }

  /** A cache saw an object of `resource` deleted: remembered (its resourceVersion) if a pending write names it. */
  #sawDeletion(resource: string, meta: ObjectMeta | undefined): void {
    const rv = meta?.resourceVersion;
    if (!rv || !meta?.name) return;
    const target = writeTarget(resource, meta.namespace, meta.name);
    if (!this.#targets.has(target)) return;
    const before = this.#deletions.get(target);
    if (before === undefined || (compareResourceVersions(rv, before) ?? 0) > 0) this.#deletions.set(target, rv);
  }

  /** Tells `onError` of a failure; an `onError` that throws is ignored (it must not stop a worker or the recorder). */
  #reportError(error: unknown, key: string): void {
    try {
      this.#options.onError?.(error, key);
    } catch {
      // The handler's own failure has nowhere to go.
    }
  }

  /** Sharded: aborts the running reconciles of keys whose object (its uid as last seen) is no longer in the ranges. */
  #abortMoved(): void {
    const ranges = (this.#shard as Shard).ranges();
    for (const [key, run] of this.#runs) {
      const uid = this.#uids.get(key);
      if (uid !== undefined && !inRanges(uid, ranges)) {
        run.abort(new KwatchError('RESHARDED', `${key} moved to another replica's shard`));
      }
    }
  }

  /** Sharded: whether `key`'s object is this replica's now (its uid in the ranges, or deleted while it was ours). */
  #ownsKey(key: string, store: { get(ns: string | undefined, name: string): unknown }): boolean {
    const ranges = (this.#shard as Shard).ranges();
    const uid = this.#uids.get(key);
    if (uid !== undefined && !inRanges(uid, ranges)) return false;
    const object = store.get(...splitKey(key)) as { metadata?: { uid?: string } } | undefined;
    return object === undefined || inRanges(object.metadata?.uid, ranges);
  }

  /**
   * The object a reconcile of `key` is given: from the shared cache once it holds every write of the key's previous
   * reconcile (waiting up to `readYourWritesTimeoutMs`); past that bound, from the server.
   */
  async #objectFor(
    key: string,
    namespace: string | undefined,
    name: string,
    store: { get(ns: string | undefined, name: string): unknown },
    kube: KubeClient,
    info: { apiVersion: string; plural: string },
    signal: AbortSignal,
  ): Promise<unknown> {
    const writes = this.#written.get(key);
    const held = (): boolean =>
      (writes ?? []).every((w) => {
        const cached = this.#caches.get(w.resource)?.get(w.namespace, w.name) as Parameters<typeof cacheHolds>[1];
        if (cacheHolds(w, cached)) return true;
        // Gone from the cache, and the cache saw it deleted after the write: the cache is past the write.
        const deleted = this.#deletions.get(writeTarget(w.resource, w.namespace, w.name));
        return cached === undefined && deleted !== undefined && (compareResourceVersions(deleted, w.resourceVersion) ?? -1) >= 0;
      });
    if (!writes || held()) {
      this.#takeWritten(key);
      return store.get(namespace, name);
    }
    this.#cacheWaits += 1;
    const deadline = Date.now() + (this.#options.readYourWritesTimeoutMs ?? 10_000);
    while (Date.now() < deadline && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (held()) {
        this.#takeWritten(key);
        return store.get(namespace, name);
      }
    }
    signal.throwIfAborted();
    // The cache is late: read the object from the server (its state is at least what was written).
    this.#takeWritten(key);
    this.#serverReads += 1;
    try {
      return await kube.request({ path: objectPath(info, namespace, name), signal });
    } catch (error) {
      if ((error as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }
}

/** The metadata read-your-writes looks at in a deleted object. */
type ObjectMeta = { namespace?: string; name?: string; resourceVersion?: string };

/** One object a write names: `resource namespace/name`. */
function writeTarget(resource: string, namespace: string | undefined, name: string): string {
  return `${resource} ${namespace ?? ''}/${name}`;
}

/** A key's namespace (`undefined` for a cluster-scoped object) and name. */
function splitKey(key: string): [string | undefined, string] {
  const slash = key.indexOf('/');
  return [slash > 0 ? key.slice(0, slash) : undefined, key.slice(slash + 1)];
}
