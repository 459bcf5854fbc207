// The simulator's etcd: stored objects and the history of their changes, by global resourceVersion.
/** An object as the simulator stores it: plain JSON, never mutated after it is stored. */
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** The kinds of change a history records (the watch event types). */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One change in the history, at its own resourceVersion. A `DELETED` entry holds the object's
 * last state with the deletion's resourceVersion (as etcd3 watches report it).
 */
export interface HistoryEntry {
  readonly rv: number;
  readonly resource: string;
  readonly key: string;
  readonly type: ChangeType;
  readonly object: StoredObject;
  /** The object before the change (`undefined` for `ADDED`). */
  readonly prev: StoredObject | undefined;
}

/**
 * The simulator's etcd: every object of every resource, one global monotonically increasing
 * resourceVersion (each change takes the next one), the change log, and compaction. The
 * state at any retained resourceVersion can be rebuilt (consistent paginated LISTs need it).
 *
 * @example
 * ```ts
 * const h = new History(1);
 * h.record('v1/configmaps', 'ns/a', 'ADDED', objectWithRv(h.nextResourceVersion()));
 * h.after('v1/configmaps', 1); // [the ADDED entry]
 * ```
 */
export class History {
  #rv: number;
  #compacted: number;
  readonly #log: HistoryEntry[] = [];
  readonly #state = new Map<string, Map<string, StoredObject>>();
  readonly #listeners = new Set<(entry: HistoryEntry) => void>();

  /** @param first The resourceVersion of the empty store (etcd starts at 1). */
  constructor(first: number) {
    this.#rv = first;
    this.#compacted = first;
  }

  /** The latest resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Versions before this one are compacted away (older reads answer 410 Gone). */
  get compacted(): number {
    return this.#compacted;
  }

  /** The resourceVersion the next change will get. */
  nextResourceVersion(): number {
    return this.#rv + 1;
  }

  /** The current object under `key`, if any. */
  get(resource: string, key: string): StoredObject | undefined {
    return this.#state.get(resource)?.get(key);
  }

  /** Records a change; its object must carry {@link nextResourceVersion}. Listeners hear it at once. */
  record(resource: string, key: string, type: ChangeType, object: StoredObject): HistoryEntry {
    const rv = Number(object.metadata.resourceVersion);
    if (rv !== this.#rv + 1) throw new Error(`history: expected resourceVersion ${this.#rv + 1}, got ${rv}`);
    let objects = this.#state.get(resource);
    if (!objects) {
      objects = new Map();
      this.#state.set(resource, objects);
    }
    const entry: HistoryEntry = { rv, resource, key, type, object, prev: objects.get(key) };
    if (type === 'DELETED') objects.delete(key);
    else objects.set(key, object);
    this.#rv = rv;
    this.#log.push(entry);
    for (const listener of [...this.#listeners]) listener(entry);
    return entry;
  }

  /** Hears every change from now on; returns the function that stops listening. */
  listen(listener: (entry: HistoryEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The objects of `resource` at resourceVersion `rv` (default: now), sorted by key. Throws for a compacted `rv`. */
  at(resource: string, rv: number = this.#rv): StoredObject[] {
    if (rv < this.#compacted) throw new Error(`history: ${rv} is compacted (oldest ${this.#compacted})`);
    const objects = new Map(this.#state.get(resource) ?? []);
    for (let i = this.#log.length - 1; i >= 0 && this.#log[i]!.rv > rv; i--) {
      const e = this.#log[i]!;
      if (e.resource !== resource) continue;
      if (e.prev) objects.set(e.key, e.prev);
      else objects.delete(e.key);
    }
    return [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
  }

  /** The changes of `resource` strictly after `rv`, oldest first. Throws for a compacted `rv`. */
  after(resource: string, rv: number): HistoryEntry[] {
    if (rv < this.#compacted) throw new Error(`history: ${rv} is compacted (oldest ${this.#compacted})`);
    return this.#log.filter((e) => e.rv > rv && e.resource === resource);
  }

  /** Forgets the changes up to `rv` (at most the latest): reads and watches from before `rv` answer 410. */
  compact(rv: number): void {
    const to = Math.min(Math.max(rv, this.#compacted), this.#rv);
    this.#compacted = to;
    let drop = 0;
    while (drop < this.#log.length && this.#log[drop]!.rv <= to) drop++;
    this.#log.splice(0, drop);
  }
}
