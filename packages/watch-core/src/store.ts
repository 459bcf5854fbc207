import { isMarker, type WatchEvent, type WatchMarker } from './events.ts';
import { keyOf } from './knownObjects.ts';

/** Options of {@link Store}. */
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
 * An informer cache fed by a kwatch stream (as kube-rs's reflector or client-go's indexer):
 * the current objects by namespace and name. Feed it a stream with markers; `ready()`
 * resolves after the initial state, and a resync (after 410 Gone) is applied all at once
 * when it completes, so readers never see a half-resynced view.
 *
 * @example
 * ```ts
 * const store = new Store<Pod>({ transform: dropManagedFields });
 * void store.consume(new Watcher(Pod).stream({ markers: true }));
 * await store.ready();
 * store.get('web', 'web-0'); store.list('web');
 * ```
 */
export class Store<T extends Keyed, S extends Keyed = T> {
  readonly #transform: ((object: T) => S) | undefined;
  #objects = new Map<string, S>();
  #pending: Array<WatchEvent<T>> | undefined;
  #ready = false;
  #readyWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  /** The error of the stream that failed before the initial state was complete. */
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

  /**
   * Resolves once the initial state is complete (the first `SYNCED`); rejects with the stream's error when the
   * stream fed to {@link consume} fails before that (a 403, a deleted kind, ...), instead of waiting for ever.
   */
  ready(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure.error);
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** The object `name` in `namespace` (`undefined` namespace for cluster-scoped kinds). */
  get(namespace: string | undefined, name: string): S | undefined {
    return this.#objects.get(keyOf({ namespace, name }));
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): S[] {
    const all = [...this.#objects.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Applies one item of a stream. Events between `RESYNC` and `SYNCED` are held and applied together. */
  apply(item: WatchEvent<T> | WatchMarker): void {
    if (isMarker(item)) {
      // A stream that resumes an unfinished resync announces it again: keep what the first part delivered.
      if (item.type === 'RESYNC') this.#pending ??= [];
      else this.#synced();
      return;
    }
    if (this.#pending) this.#pending.push(item);
    else this.#applyTo(this.#objects, item);
  }

  /** Feeds the store from a stream (with `markers: true`) until it ends; rethrows the stream's error. */
  async consume(stream: AsyncIterable<WatchEvent<T> | WatchMarker>): Promise<void> {
    this.#failure = undefined;
    try {
      for await (const item of stream) this.apply(item);
    } catch (error) {
      if (!this.#ready) {
        this.#failure = { error };
        for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(error);
      }
      throw error;
    }
  }

  #synced(): void {
    if (this.#pending) {
      const next = new Map(this.#objects);
      for (const e of this.#pending) this.#applyTo(next, e);
      this.#objects = next; // swapped at once
      this.#pending = undefined;
    }
    if (!this.#ready) {
      this.#ready = true;
      for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
    }
  }

  #applyTo(map: Map<string, S>, e: WatchEvent<T>): void {
    const key = keyOf(e.object.metadata);
    if (e.type === 'DELETED') map.delete(key);
    else map.set(key, this.#transform ? this.#transform(e.object) : (e.object as unknown as S));
  }
}

/** A transform for {@link Store} that drops `metadata.managedFields` (often half of an object's size). */
export function dropManagedFields<T extends Keyed>(object: T): T {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
  return object;
}
