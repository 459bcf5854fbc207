import type { WatchEventType } from './events.ts';

interface Meta {
  name?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}
interface Known {
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
}

/** What a relist says must be delivered for one object, or for one vanished object. */
export type DiffEvent = { readonly type: WatchEventType; readonly object: object; readonly tombstone: boolean };

/**
 * The identity and resourceVersion of every object delivered so far (not the objects:
 * ~100 bytes each). A relist is compared against it so that the consumer's view converges
 * without duplicates: unchanged objects are not delivered again, changed ones are
 * MODIFIED, new ones ADDED, recreated ones DELETED then ADDED, and vanished ones DELETED
 * (as a tombstone carrying their last known metadata).
 */
export class KnownObjects {
  readonly #known = new Map<string, Known>();
  #seen: Set<string> | undefined;

  get size(): number {
    return this.#known.size;
  }

  /** Records an event the server reported. */
  observe(type: WatchEventType, meta: Meta | undefined): void {
    const key = keyOf(meta);
    if (type === 'DELETED') this.#known.delete(key);
    else this.#known.set(key, { uid: meta?.uid, resourceVersion: meta?.resourceVersion });
  }

  /** Starts comparing a relist. */
  beginRelist(): void {
    this.#seen = new Set();
  }

  /** One listed object: the events (zero to two) that bring the consumer up to date. */
  listed(object: object, meta: Meta | undefined, tombstone: (k: string, known: Known) => object): DiffEvent[] {
    const key = keyOf(meta);
    this.#seen?.add(key);
    const prev = this.#known.get(key);
    this.#known.set(key, { uid: meta?.uid, resourceVersion: meta?.resourceVersion });
    if (!prev) return [{ type: 'ADDED', object, tombstone: false }];
    if (prev.uid !== meta?.uid) {
      return [
        { type: 'DELETED', object: tombstone(key, prev), tombstone: true },
        { type: 'ADDED', object, tombstone: false },
      ];
    }
    if (prev.resourceVersion !== meta?.resourceVersion) return [{ type: 'MODIFIED', object, tombstone: false }];
    return [];
  }

  /** Ends the relist: DELETED tombstones for everything known that the list did not contain. */
  endRelist(tombstone: (k: string, known: Known) => object): DiffEvent[] {
    const seen = this.#seen ?? new Set();
    this.#seen = undefined;
    const out: DiffEvent[] = [];
    for (const [key, known] of this.#known) {
      if (!seen.has(key)) {
        this.#known.delete(key);
        out.push({ type: 'DELETED', object: tombstone(key, known), tombstone: true });
      }
    }
    return out;
  }
}

/** The key of an object: `namespace/name` (`/name` when cluster-scoped). */
export function keyOf(meta: Meta | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

/** Splits a key back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  return { namespace: namespace === '' ? undefined : namespace, name: key.slice(slash + 1) };
}
