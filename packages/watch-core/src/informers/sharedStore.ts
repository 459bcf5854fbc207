import { KwatchError } from '../internal/index.ts';
import type { Store, StoreChange, StoreEventsOptions } from './store.ts';
import type { IndexFunc } from './storeIndex.ts';

type Keyed = { metadata?: { name?: string; namespace?: string } | undefined };

/**
 * A handle on a store shared by an {@link InformerFactory}'s subscribers: the reads of a
 * {@link Store} (no `apply`: the shared watch feeds it), and `release()`. Indexes are shared by
 * every handle of the same store (one name, one function). Objects are shared too: do not mutate them.
 *
 * @example
 * ```ts
 * using pods = informers.store(Pod, { namespace: 'web' });
 * pods.addIndex('byNode', (p) => [p.spec?.nodeName ?? '']);
 * await pods.synced();
 * pods.byIndex('byNode', 'node-1');
 * ```
 */
export class SharedStore<S> {
  readonly #store: Store<S & Keyed>;
  #release: (() => void) | undefined;

  constructor(store: Store<S & Keyed>, release: () => void) {
    this.#store = store;
    this.#release = release;
  }

  /** How many objects are stored. */
  get size(): number {
    return this.#store.size;
  }

  /** True once the initial state is complete. */
  get isReady(): boolean {
    return this.#store.isReady;
  }

  /** True once {@link release}d. */
  get released(): boolean {
    return this.#release === undefined;
  }

  /** See {@link Store.ready}. */
  ready(): Promise<void> {
    return this.#store.ready();
  }

  /** See {@link Store.synced}: rejects when the shared watch failed for good. */
  synced(): Promise<void> {
    return this.#store.synced();
  }

  /** See {@link Store.get}. */
  get(namespace: string | undefined, name: string): S | undefined {
    return this.#store.get(namespace, name);
  }

  /** See {@link Store.list}. */
  list(namespace?: string): S[] {
    return this.#store.list(namespace);
  }

  /** See {@link Store.addIndex}; the index is shared by every handle of this store. */
  addIndex(name: string, fn: IndexFunc<S>): this {
    this.#store.addIndex(name, fn as IndexFunc<S & Keyed>);
    return this;
  }

  /** See {@link Store.byIndex}. */
  byIndex(name: string, value: string): S[] {
    return this.#store.byIndex(name, value);
  }

  /** See {@link Store.indexValues}. */
  indexValues(name: string): string[] {
    return this.#store.indexValues(name);
  }

  /** See {@link Store.events}. A released handle cannot subscribe. */
  events(options?: StoreEventsOptions): AsyncGenerator<StoreChange<S>, void, undefined> {
    if (!this.#release) throw new KwatchError('INVALID_OPTION', 'This store handle was released');
    return this.#store.events(options) as AsyncGenerator<StoreChange<S>, void, undefined>;
  }

  /** Lets the shared watch go (it stops `graceMs` after its last holder); more calls do nothing. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Releases on `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
