// A store's secondary indexes (client-go's indexers): index values to object keys, removable by key alone.
import { KwatchError } from '../internal/index.ts';

/**
 * An index function: the values an object is found under (none, one or several), as client-go's
 * `IndexFunc`. It must be pure and must not throw: one that throws on an object already stored makes
 * `addIndex` throw `INDEX_FUNCTION_FAILED`; one that throws on an object stored later breaks its own index
 * only (its `byIndex` / `indexValues` throw `INDEX_FUNCTION_FAILED`), never the store, the other indexes or
 * the watch feeding them. Either way the function's error is the `cause`.
 *
 * @example
 * ```ts
 * const byNode: IndexFunc<Pod> = (pod) => [pod.spec?.nodeName ?? ''];
 * ```
 */
export type IndexFunc<S> = (object: S) => readonly string[];

interface Index<S> {
  readonly name: string;
  readonly fn: IndexFunc<S>;
  /** Set once `fn` threw: the index is no longer complete, and says so instead of answering. */
  broken: KwatchError | undefined;
  /** value → keys of the objects indexed under it. */
  readonly byValue: Map<string, Set<string>>;
  /** key → the values it is indexed under, so that removal needs no object (a tombstone has none). */
  readonly byKey: Map<string, readonly string[]>;
}

/**
 * The secondary indexes of a store: each maps index values to object keys. An object is removed
 * from every index by its key alone, with the values it was indexed under when it was stored, so
 * a DELETED that carries a tombstone (metadata only) removes it exactly. An index function that
 * throws breaks its own index only.
 */
export class Indexes<S> {
  readonly #indexes = new Map<string, Index<S>>();

  /** Adds an index over `objects` (key → object); the same function again is a no-op, another one under that name an error. */
  add(name: string, fn: IndexFunc<S>, objects: ReadonlyMap<string, S>): void {
    const existing = this.#indexes.get(name);
    if (existing) {
      if (existing.fn === fn) return;
      throw new KwatchError('INVALID_OPTION', `The store already has an index named ${JSON.stringify(name)}`);
    }
    if (typeof fn !== 'function') throw new KwatchError('INVALID_OPTION', `Expected an index function, got ${typeof fn}`);
    const index: Index<S> = { name, fn, broken: undefined, byValue: new Map(), byKey: new Map() };
    for (const [key, object] of objects) {
      this.#insert(index, key, object);
      if (index.broken) throw index.broken;
    }
    this.#indexes.set(name, index);
  }

  /** Names of the indexes. */
  get names(): string[] {
    return [...this.#indexes.keys()];
  }

  /** The object under `key` became `object` (`undefined`: removed). */
  update(key: string, object: S | undefined): void {
    for (const index of this.#indexes.values()) {
      if (index.broken) continue;
      this.#remove(index, key);
      if (object !== undefined) this.#insert(index, key, object);
    }
  }

  /** Keys indexed under `value` in index `name`; an unknown or broken index is an error. */
  keys(name: string, value: string): ReadonlySet<string> {
    return this.#get(name).byValue.get(value) ?? EMPTY;
  }

  /** The values of index `name` that hold at least one object. */
  values(name: string): string[] {
    return [...this.#get(name).byValue.keys()];
  }

  #get(name: string): Index<S> {
    const index = this.#indexes.get(name);
    if (!index) throw new KwatchError('INVALID_OPTION', `The store has no index named ${JSON.stringify(name)}`);
    if (index.broken) throw index.broken;
    return index;
  }

  /** Indexes `object` under what `fn` gives; if `fn` throws, the index is broken (and emptied: it answers no more). */
  #insert(index: Index<S>, key: string, object: S): void {
    let values: string[];
    try {
      values = [...new Set(index.fn(object))];
    } catch (cause) {
      index.broken = new KwatchError(
        'INDEX_FUNCTION_FAILED',
        `The index function of ${JSON.stringify(index.name)} threw on ${key}: ${(cause as Error)?.message ?? String(cause)}`,
        { cause },
      );
      index.byValue.clear();
      index.byKey.clear();
      return;
    }
    if (values.length === 0) return;
    index.byKey.set(key, values);
    for (const v of values) {
      const keys = index.byValue.get(v);
      if (keys) keys.add(key);
      else index.byValue.set(v, new Set([key]));
    }
  }

  #remove(index: Index<S>, key: string): void {
    const values = index.byKey.get(key);
    if (!values) return;
    index.byKey.delete(key);
    for (const v of values) {
      const keys = index.byValue.get(v);
      keys?.delete(key);
      if (keys?.size === 0) index.byValue.delete(v);
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
