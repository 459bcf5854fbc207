// Store: an informer cache fed by a stream — objects by key, indexes, a resync applied at once, events().
import { changeOf, type Identity, isMarker, keyOf, LiveStream, type WatchEvent, type WatchMarker } from '../internal/index.ts';
import type { KnownView } from '../watch/index.ts';
import { type CatchUp, Feed } from './feed.ts';
import { resolveStoreEventsOptions, resolveStoreOptions, type StoreEventsOptions, type StoreOptions } from './options.ts';
import { Indexes, type IndexFunc } from './storeIndex.ts';

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

/** One key of a resync being received: what it delivered last. */
interface Pending<S> {
  readonly object: S | undefined;
  readonly synthetic: boolean;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The store's internals that the shared watch reaches, set by the class's static block (no public surface). */
let internals: {
  recordOf<S extends Keyed>(store: Store<never, S>, key: string): S | undefined;
  heldKeys(store: Store<never, Keyed>): Iterable<string>;
  stop(store: Store<never, Keyed>, error: unknown): void;
};

/**
 * Internal (the shared watch's record): what the stream has delivered for `key` — a resync being
 * received included, which readers of the store see only once it is applied.
 */
export function recordOf<T extends Keyed, S extends Keyed>(store: Store<T, S>, key: string): S | undefined {
  return internals.recordOf(store as unknown as Store<never, S>, key);
}

/**
 * Internal (the shared watch's watcher records what it delivered here, not in a map of its own): the store as a
 * {@link KnownView} — what was delivered of each key, a resync being received included.
 */
export function knownViewOf<T extends Keyed, S extends Keyed>(store: Store<T, S>): KnownView {
  const s = store as unknown as Store<never, Keyed>;
  return {
    get: (key) => internals.recordOf(s, key)?.metadata as Identity | undefined,
    keys: () => internals.heldKeys(s),
  };
}

/**
 * Internal (a shared watch that was stopped): the store no longer follows the server — `synced()`
 * (and `ready()` before the initial state) reject with `error`, `events()` iterations end (done).
 */
export function stopStore<T extends Keyed, S extends Keyed>(store: Store<T, S>, error: unknown): void {
  internals.stop(store as unknown as Store<never, Keyed>, error);
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
  /** A resync being received: per key, what it delivered last (`object` undefined: deleted). Applied at `SYNCED`. */
  #pending: Map<string, Pending<S>> | undefined;
  #ready = false;
  #waiters: Waiter[] = [];
  /** The error of the stream that failed (before the initial state was complete, or at any time for `synced()`). */
  #failure: { error: unknown } | undefined;
  /** How `events()` iterations end now that the store no longer follows a stream: with `error`, or done. */
  #eventsEnd: { error: unknown } | undefined;

  static {
    internals = {
      recordOf(store, key) {
        const pending = store.#pending?.get(key);
        return pending ? pending.object : store.#objects.get(key);
      },
      *heldKeys(store) {
        const pending = store.#pending;
        yield* store.#objects.keys();
        if (pending) for (const key of pending.keys()) if (!store.#objects.has(key)) yield key;
      },
      stop(store, error) {
        store.#failure = { error };
        for (const waiter of store.#waiters.splice(0)) waiter.reject(error);
        store.#endEvents(undefined);
      },
    };
  }

  /** Checks the options: an unknown or bad one is an `INVALID_OPTION` naming it. */
  constructor(options?: StoreOptions<T, S>) {
    this.#transform = resolveStoreOptions(options).transform;
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
   * `fn` must be pure and must not throw; it sees stored objects (after `transform`). If it throws on
   * an object already stored, `addIndex` throws `INDEX_FUNCTION_FAILED` (the index is not added); if it
   * throws on an object stored later, that index is broken — its `byIndex` and `indexValues` throw
   * `INDEX_FUNCTION_FAILED` — while the store, its other indexes and whatever feeds it go on. Either way
   * the function's error is the `cause`.
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
   * The objects indexed under `value` in index `name` (an unknown name is `INVALID_OPTION`; an index whose
   * function threw is `INDEX_FUNCTION_FAILED`).
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
   * `OnUpdate(old, new)`). A resync's changes come when it is applied (at `SYNCED`), one net change
   * per object (an object deleted and created again under the same name — a new uid — is DELETED
   * then ADDED). Each iteration has its own bounded queue (`bufferSize`); one that falls behind gets
   * the net difference instead of the dropped changes (see {@link StoreEventsOptions.bufferSize}), so
   * the store never waits for it.
   *
   * Subscribed when called, not at the first pull: `const ev = store.events(); store.list()` misses
   * nothing. `break`, `return()`, `throw()` or the `signal` unsubscribe at once — also before the first
   * pull, and while a `next()` is pending (it settles done). When the stream feeding the store fails
   * for good ({@link fail}), the iteration rejects with its error after the changes queued before it.
   *
   * @example
   * ```ts
   * for await (const c of store.events()) {
   *   if (c.type === 'MODIFIED' && c.old.spec?.nodeName !== c.object.spec?.nodeName) console.log('moved');
   * }
   * ```
   */
  events(options?: StoreEventsOptions): AsyncGenerator<StoreChange<S>, void, undefined> {
    const { signal, bufferSize } = resolveStoreEventsOptions(options);
    const feed = new Feed<StoreChange<S>, S>(bufferSize, (c) => this.#catchUp(c));
    if (this.#eventsEnd) feed.end(this.#eventsEnd.error);
    else this.#feeds.add(feed);
    return new LiveStream({
      start: (signal) => feed.iterate(signal),
      close: () => this.#feeds.delete(feed),
      signal,
    });
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
      if (item.type === 'RESYNC') this.#pending ??= new Map();
      else this.#synced();
      return;
    }
    const key = keyOf(item.object.metadata);
    const object = item.type === 'DELETED' ? undefined : this.#keep(item.object);
    if (this.#pending) this.#pending.set(key, { object, synthetic: item.synthetic });
    else this.#set(key, object, item.synthetic);
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
    this.#eventsEnd = undefined;
    try {
      for await (const item of stream) this.apply(item);
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /**
   * Records that the stream feeding the store failed for good: `synced()` rejects with `error`
   * from now on, and so does `ready()` if the initial state was not complete; every `events()`
   * iteration ends with `error` (after the changes queued before it), and new ones reject with it.
   * A new {@link consume} clears it.
   *
   * @example
   * ```ts
   * try { for await (const i of stream) store.apply(i); } catch (e) { store.fail(e); }
   * ```
   */
  fail(error: unknown): void {
    this.#failure = { error };
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.#endEvents({ error });
  }

  /** Ends every `events()` iteration (and those to come) with `end.error`, or done. */
  #endEvents(end: { error: unknown } | undefined): void {
    this.#eventsEnd = end ?? { error: undefined };
    for (const feed of this.#feeds) feed.end(end?.error);
    this.#feeds.clear();
  }

  #keep(object: T): S {
    return this.#transform ? this.#transform(object) : (object as unknown as S);
  }

  #synced(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    // Applied in one synchronous run: readers never see half of it.
    if (pending) for (const [key, p] of pending) this.#set(key, p.object, p.synthetic);
    this.#ready = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  /** The object under `key` is now `object` (`undefined`: gone): store it, index it, tell the iterations. */
  #set(key: string, object: S | undefined, synthetic: boolean): void {
    const old = this.#objects.get(key);
    const change = changeOf(old, object);
    if (object === undefined) {
      if (old === undefined) return;
      this.#objects.delete(key);
    } else this.#objects.set(key, object);
    if (change === 'none') return;
    this.#indexes.update(key, object);
    if (this.#feeds.size === 0) return;
    for (const c of storeChanges(change, old, object, synthetic)) {
      // What an iteration held before this change: after the DELETED of a recreate, nothing.
      const before = c.type === 'ADDED' ? undefined : old;
      for (const feed of this.#feeds) feed.push(c, key, before);
    }
  }

  /** The net difference between what a lagging iteration held (`before`) and the store now. */
  #catchUp(catchUp: CatchUp<S>): StoreChange<S>[] {
    const out: StoreChange<S>[] = [];
    const entries: Iterable<[string, S | undefined]> =
      catchUp === 'full' ? [...this.#objects.keys()].map((k) => [k, undefined]) : catchUp;
    for (const [key, before] of entries) {
      const now = this.#objects.get(key);
      out.push(...storeChanges(changeOf(before, now), before, now, true));
    }
    return out;
  }
}

/** The changes of {@link Store.events} that take an iteration from `before` to `now`, as {@link changeOf} says. */
function storeChanges<S>(
  change: ReturnType<typeof changeOf>,
  before: S | undefined,
  now: S | undefined,
  synthetic: boolean,
): StoreChange<S>[] {
  switch (change) {
    case 'none':
      return [];
    case 'added':
      return [{ type: 'ADDED', object: now as S, old: undefined, synthetic }];
    case 'modified':
      return [{ type: 'MODIFIED', object: now as S, old: before as S, synthetic }];
    case 'deleted':
      return [{ type: 'DELETED', object: before as S, old: before as S, synthetic }];
    case 'recreated':
      return [
        { type: 'DELETED', object: before as S, old: before as S, synthetic },
        { type: 'ADDED', object: now as S, old: undefined, synthetic },
      ];
  }
}

/**
 * A transform for {@link Store} that drops `metadata.managedFields` (often half of an object's size): the object is
 * kept, its `metadata` replaced by a copy without them. A copy rather than `delete`, which would turn the metadata of
 * every stored object into a slower, larger dictionary-mode object (measured with 10k ConfigMaps in a Store, the
 * process's heap after GC: 27.7 MB keeping managedFields, 25.6 MB after `delete`, 22.0 MB after the copy).
 *
 * @example
 * ```ts
 * const store = new Store<Pod>({ transform: dropManagedFields });
 * ```
 */
export function dropManagedFields<T extends Keyed>(object: T): T {
  const metadata = object.metadata;
  if (metadata?.managedFields === undefined) return object;
  const { managedFields: _, ...rest } = metadata;
  (object as { metadata: object }).metadata = rest;
  return object;
}
