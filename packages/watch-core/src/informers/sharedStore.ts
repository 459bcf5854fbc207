// SharedStore: one holder's handle on a shared watch's Store — its reads, and release().
import { KwatchError } from '../internal/index.ts';
import type { StoreEventsOptions } from './options.ts';
import type { Store, StoreChange } from './store.ts';
import type { IndexFunc } from './storeIndex.ts';

type Keyed = { metadata?: { name?: string; namespace?: string } | undefined };

/**
 * A handle on a store shared by an {@link InformerFactory}'s subscribers: the reads of a
 * {@link Store} (no `apply`: the shared watch feeds it), and `release()`. Indexes are shared by
 * every handle of the same store (one name, one function). Objects are shared too: do not mutate them.
 *
 * `ready()` and `synced()` always settle: they resolve once the store is in sync, reject with the
 * watch's error when it failed for good (403, …), and reject with a `KwatchError` of code `ABORTED`
 * when this handle is released or the factory stopped before — where client-go's `WaitForCacheSync`
 * returns false. (A released handle's waits reject `ABORTED` at once; after `stop()`, `synced()`
 * rejects `ABORTED` even if the store had synced, as the store no longer follows the server.)
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
  /** The rejections of this handle's pending `ready()` / `synced()`, settled by `release()`. */
  readonly #waits = new Set<(error: unknown) => void>();

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

  /**
   * See {@link Store.ready}: resolves after the initial state; rejects with the watch's error when it
   * failed for good first, or `ABORTED` when this handle was released or the factory stopped first.
   *
   * @example
   * ```ts
   * await pods.ready();
   * ```
   */
  ready(): Promise<void> {
    return this.#wait(this.#store.ready());
  }

  /**
   * See {@link Store.synced}: resolves when in sync; rejects with the watch's error when it failed for
   * good, or `ABORTED` when this handle is released or the factory stopped (it no longer follows the server).
   *
   * @example
   * ```ts
   * try { await pods.synced(); } catch (e) { if (isKwatchError(e) && e.code === 'ABORTED') return; throw e; }
   * ```
   */
  synced(): Promise<void> {
    return this.#wait(this.#store.synced());
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

  /**
   * See {@link Store.events}. A released handle cannot subscribe (`INVALID_OPTION`). The iteration
   * rejects with the watch's error when it fails for good, and ends (done) when the factory stops.
   *
   * @example
   * ```ts
   * for await (const c of pods.events({ signal })) console.log(c.type, c.object.metadata?.name);
   * ```
   */
  events(options?: StoreEventsOptions): AsyncGenerator<StoreChange<S>, void, undefined> {
    if (!this.#release) throw new KwatchError('INVALID_OPTION', 'This store handle was released');
    return this.#store.events(options) as AsyncGenerator<StoreChange<S>, void, undefined>;
  }

  /**
   * Lets the shared watch go (it stops `graceMs` after its last holder); more calls do nothing. This
   * handle's pending `ready()` / `synced()` reject with `ABORTED`, and so do later ones.
   *
   * @example
   * ```ts
   * pods.release();
   * ```
   */
  release(): void {
    const release = this.#release;
    if (!release) return;
    this.#release = undefined;
    const error = released();
    for (const reject of this.#waits) reject(error);
    this.#waits.clear();
    release();
  }

  /** `promise`, unless this handle is released first. */
  #wait(promise: Promise<void>): Promise<void> {
    if (!this.#release) {
      promise.catch(() => undefined);
      return Promise.reject(released());
    }
    return new Promise((resolve, reject) => {
      this.#waits.add(reject);
      promise.then(resolve, reject).finally(() => this.#waits.delete(reject));
    });
  }

  /** Releases on `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

function released(): KwatchError {
  return new KwatchError('ABORTED', 'This store handle was released: it no longer waits for the store');
}
