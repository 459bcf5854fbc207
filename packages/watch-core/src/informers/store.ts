import { isMarker, type WatchEvent, type WatchEventType, type WatchMarker } from '../internal/index.ts';
import { keyOf } from '../watch/index.ts';
import { type CatchUp, DEFAULT_QUEUE_BOUND, Feed } from './feed.ts';
import { Indexes, type IndexFunc } from './storeIndex.ts';

/**
 * Options of {@link Store}.
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

/** What a stored object needs: a name (and a namespace for namespaced kinds). */
type Keyed = { metadata?: { name?: string; namespace?: string; managedFields?: unknown } | undefined };

/**
 * One change of a {@link Store}, as {@link Store.events} yields it: the object before and after.
 * A DELETED carries the last stored object (whole, even when the watch only knew a tombstone).
 *
 * @example
 * ```ts
 * for await (const c of store.events()) if (c.type === 'MODIFIED') diff(c.old, c.object);
 * ```
 */
export type StoreChange<S> =
  | { readonly type: 'ADDED'; readonly object: S; readonly old: undefined; readonly synthetic: boolean }
  | { readonly type: 'MODIFIED'; readonly object: S; readonly old: S; readonly synthetic: boolean }
  | { readonly type: 'DELETED'; readonly object: S; readonly old: S; readonly synthetic: boolean };

/**
 * Options of {@link Store.events}.
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
   * (`synthetic: true`; intermediate versions skipped, nothing lost). Default: `1024`.
   */
  readonly bufferSize?: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * An informer cache fed by a kwatch stream (as kube-rs's reflector or client-go's indexer):
 * the current objects by namespace and name, secondary indexes, and a stream of changes with the
 * old and new object. Feed it a stream with markers; `ready()` resolves after the initial state,
 * and a resync (after 410 Gone) is applied all at once when it completes, so readers never see a
 * half-resynced view.
 *
 * @example
 * ```ts
 * const store = new Store<Pod>({ transform: dropManagedFields });
 * store.addIndex('byNode', (pod) => [pod.spec?.nodeName ?? '']);
 * void store.consume(new Watcher(Pod).stream({ markers: true }));
 * await store.synced();
 * store.get('web', 'web-0'); store.list('web'); store.byIndex('byNode', 'node-1');
 * ```
 */
export class Store<T extends Keyed, S extends Keyed = T> {
  readonly #transform: ((object: T) => S) | undefined;
  readonly #objects = new Map<string, S>();
  readonly #indexes = new Indexes<S>();
  readonly #feeds = new Set<Feed<StoreChange<S>, S>>();
  #pending: Array<WatchEvent<T>> | undefined;
  #ready = false;
  #waiters: Waiter[] = [];
  /** The error of the stream that failed (before the initial state was complete, or at any time for `synced()`). */
  #failure: { error: unknown } | undefined;

  constructor(options: StoreOptions<T, S> = {}) {
    this.#transform = options.transform;
  }

  /** How many objects are stored. */
  get size(): number {
    return this.#objects.size;
  }

  /** True once the initial state is complete. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** True while a resync is being received (between `RESYNC` and `SYNCED`); readers see the state before it. */
  get isResyncing(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Resolves once the initial state is complete (the first `SYNCED`); rejects with the stream's error when the
   * stream fed to {@link consume} fails before that (a 403, a deleted kind, ...), instead of waiting for ever.
   *
   * @example
   * ```ts
   * await store.ready();
   * ```
   */
  ready(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure.error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Resolves when the store is in sync: the initial state is complete and no resync is being received.
   * Rejects with the error of the stream feeding it when that stream failed for good (a 403, a deleted
   * kind, `maxConsecutiveErrors`) — also after it was in sync, because the store no longer follows the server.
   *
   * @example
   * ```ts
   * await store.synced(); // then store.list() is the server's state as of the last SYNCED
   * ```
   */
  synced(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#ready && !this.#pending) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * The object `name` in `namespace` (`undefined` namespace for cluster-scoped kinds).
   *
   * @example
   * ```ts
   * store.get('web', 'web-0')?.status?.phase;
   * ```
   */
  get(namespace: string | undefined, name: string): S | undefined {
    return this.#objects.get(keyOf({ namespace, name }));
  }

  /**
   * Every object, or those of one namespace.
   *
   * @example
   * ```ts
   * store.list('web').length;
   * ```
   */
  list(namespace?: string): S[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /**
   * Adds a secondary index, as client-go's indexers: `fn` gives the values each object is found
   * under. Existing objects are indexed at once, later ones as they change. Adding the same function
   * under the same name again is a no-op; another function under a taken name is `INVALID_OPTION`.
   * `fn` must be pure and must not throw; it sees stored objects (after `transform`).
   *
   * @example
   * ```ts
   * store.addIndex('byNode', (pod) => [pod.spec?.nodeName ?? '']);
   * store.byIndex('byNode', 'node-1');
   * ```
   */
  addIndex(name: string, fn: IndexFunc<S>): this {
    this.#indexes.add(name, fn, this.#objects);
    return this;
  }

  /**
   * The objects indexed under `value` in index `name` (an unknown name is `INVALID_OPTION`).
   *
   * @example
   * ```ts
   * for (const pod of store.byIndex('byNode', 'node-1')) console.log(pod.metadata?.name);
   * ```
   */
  byIndex(name: string, value: string): S[] {
    const out: S[] = [];
    for (const key of this.#indexes.keys(name, value)) {
      const o = this.#objects.get(key);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  /**
   * The values of index `name` under which at least one object is stored.
   *
   * @example
   * ```ts
   * store.indexValues('byNode'); // ['node-1', 'node-2']
   * ```
   */
  indexValues(name: string): string[] {
    return this.#indexes.values(name);
  }

  /**
   * The store's changes from now on, with the object before and after each (client-go's
   * `OnUpdate(old, new)`). A resync's changes come when it is applied (at `SYNCED`). Each iteration
   * has its own bounded queue (`bufferSize`); one that falls behind gets the net difference instead
   * of the dropped changes (see {@link StoreEventsOptions.bufferSize}), so the store never waits for it.
   * Subscribed when called, not at the first pull: `const ev = store.events(); store.list()` misses nothing;
   * `break`, `return()` or the `signal` (also before the first pull) unsubscribe.
   *
   * @example
   * ```ts
   * for await (const c of store.events()) {
   *   if (c.type === 'MODIFIED' && c.old.spec?.nodeName !== c.object.spec?.nodeName) console.log('moved');
   * }
   * ```
   */
  events(options: StoreEventsOptions = {}): AsyncGenerator<StoreChange<S>, void, undefined> {
    const feed = new Feed<StoreChange<S>, S>(options.bufferSize ?? DEFAULT_QUEUE_BOUND, (c) => this.#catchUp(c));
    this.#feeds.add(feed);
    const { signal } = options;
    const leave = (): void => {
      signal?.removeEventListener('abort', leave);
      this.#feeds.delete(feed);
    };
    // Also when the iteration is never pulled: an abort unsubscribes.
    signal?.addEventListener('abort', leave, { once: true });
    if (signal?.aborted) leave();
    return (async function* () {
      try {
        yield* feed.iterate(signal);
      } finally {
        leave();
      }
    })();
  }

  /**
   * Applies one item of a stream. Events between `RESYNC` and `SYNCED` are held and applied together.
   *
   * @example
   * ```ts
   * for await (const item of watcher.stream({ markers: true })) store.apply(item);
   * ```
   */
  apply(item: WatchEvent<T> | WatchMarker): void {
    if (isMarker(item)) {
      // A stream that resumes an unfinished resync announces it again: keep what the first part delivered.
      if (item.type === 'RESYNC') this.#pending ??= [];
      else this.#synced();
      return;
    }
    if (this.#pending) this.#pending.push(item);
    else this.#applyOne(item);
  }

  /**
   * Feeds the store from a stream (with `markers: true`) until it ends; rethrows the stream's error
   * (after {@link fail}ing the store with it).
   *
   * @example
   * ```ts
   * void store.consume(new Watcher(Pod).stream({ markers: true }));
   * ```
   */
  async consume(stream: AsyncIterable<WatchEvent<T> | WatchMarker>): Promise<void> {
    this.#failure = undefined;
    try {
      for await (const item of stream) this.apply(item);
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Records that the stream feeding the store failed for good: `synced()` rejects with `error`
   * from now on, and so does `ready()` if the initial state was not complete. A new {@link consume} clears it.
   *
   * @example
   * ```ts
   * try { for await (const i of stream) store.apply(i); } catch (e) { store.fail(e); }
   * ```
   */
  fail(error: unknown): void {
    this.#failure = { error };
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #synced(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    // Applied in one synchronous run: readers never see half of it.
    if (pending) for (const e of pending) this.#applyOne(e);
    this.#ready = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #applyOne(e: WatchEvent<T>): void {
    const key = keyOf(e.object.metadata);
    const old = this.#objects.get(key);
    if (e.type === 'DELETED') {
      if (old === undefined) return;
      this.#objects.delete(key);
      this.#indexes.update(key, undefined);
      this.#emit({ type: 'DELETED', object: old, old, synthetic: e.synthetic }, key, old);
      return;
    }
    const object = this.#transform ? this.#transform(e.object) : (e.object as unknown as S);
    this.#objects.set(key, object);
    this.#indexes.update(key, object);
    this.#emit(
      old === undefined
        ? { type: 'ADDED', object, old: undefined, synthetic: e.synthetic }
        : { type: e.type as Exclude<WatchEventType, 'ADDED' | 'DELETED'>, object, old, synthetic: e.synthetic },
      key,
      old,
    );
  }

  #emit(change: StoreChange<S>, key: string, before: S | undefined): void {
    for (const feed of this.#feeds) feed.push(change, key, before);
  }

  /** The net difference between what a lagging iteration held (`before`) and the store now. */
  #catchUp(catchUp: CatchUp<S>): StoreChange<S>[] {
    const out: StoreChange<S>[] = [];
    const entries: Iterable<[string, S | undefined]> =
      catchUp === 'full' ? [...this.#objects.keys()].map((k) => [k, undefined]) : catchUp;
    for (const [key, before] of entries) {
      const now = this.#objects.get(key);
      if (now === before) continue;
      if (before === undefined && now !== undefined) out.push({ type: 'ADDED', object: now, old: undefined, synthetic: true });
      else if (before !== undefined && now === undefined)
        out.push({ type: 'DELETED', object: before, old: before, synthetic: true });
      else if (before !== undefined && now !== undefined)
        out.push({ type: 'MODIFIED', object: now, old: before, synthetic: true });
    }
    return out;
  }
}

/** A transform for {@link Store} that drops `metadata.managedFields` (often half of an object's size). */
export function dropManagedFields<T extends Keyed>(object: T): T {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
  return object;
}
