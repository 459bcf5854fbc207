// KnownObjects: what the consumer holds of each object, journaled, and the diff of a relist against it.
import type { WatchEventType } from '../internal/index.ts';

interface Meta {
  name?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}
/** What is remembered of one delivered object. */
export interface Known {
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
}

/**
 * What a relist says must be delivered for one object: the listed object, or a tombstone of a
 * known one; `seq` is the journal position that taking it commits.
 */
export type Diff =
  | { readonly type: 'ADDED' | 'MODIFIED'; readonly object: object; readonly seq: number }
  | { readonly type: 'DELETED'; readonly key: string; readonly known: Known; readonly seq: number };

/**
 * The identity and resourceVersion of every object the watcher's consumer holds (not the
 * objects: ~100 bytes each). A relist is compared against it so that the consumer's view
 * converges without duplicates: unchanged objects are not delivered again, changed ones are
 * MODIFIED, new ones ADDED, recreated ones DELETED then ADDED, and vanished ones DELETED.
 *
 * Changes are journaled until the consumer takes the event that carries them: `commit(seq)`
 * keeps everything up to `seq`, `rollback()` undoes the rest (events that were received but
 * never taken), so that what is remembered is always what was delivered.
 */
export class KnownObjects {
  readonly #known = new Map<string, Known>();
  /** Undo records of changes not committed yet (two parallel arrays, no tuple per change): the key, and its value before. */
  #journal: string[] = [];
  #before: Array<Known | undefined> = [];
  /** The sequence number of `#journal[0]`; records before `#head` are committed. */
  #base = 0;
  #head = 0;
  #seen: Set<string> | undefined;

  get size(): number {
    return this.#known.size;
  }

  /** The sequence number after the last change; an event carrying it commits everything before. */
  get seq(): number {
    return this.#base + this.#journal.length;
  }

  /** How many changes are not committed yet. */
  get uncommitted(): number {
    return this.#journal.length - this.#head;
  }

  /** Records an event the server reported. */
  observe(type: WatchEventType, meta: Meta | undefined): void {
    const key = keyOf(meta);
    this.#set(key, type === 'DELETED' ? undefined : { uid: meta?.uid, resourceVersion: meta?.resourceVersion });
  }

  /** Starts comparing a relist. */
  beginRelist(): void {
    this.#seen = new Set();
  }

  /** One listed object: the events (zero to two) that bring the consumer up to date. */
  listed(object: object, meta: Meta | undefined): Diff[] {
    const key = keyOf(meta);
    this.#seen?.add(key);
    const prev = this.#known.get(key);
    const next = { uid: meta?.uid, resourceVersion: meta?.resourceVersion };
    if (!prev) return [{ type: 'ADDED', object, seq: this.#set(key, next) }];
    if (prev.uid !== meta?.uid) {
      // Recreated: two changes, so that taking only the DELETED commits only the deletion.
      return [
        { type: 'DELETED', key, known: prev, seq: this.#set(key, undefined) },
        { type: 'ADDED', object, seq: this.#set(key, next) },
      ];
    }
    if (prev.resourceVersion !== meta?.resourceVersion) return [{ type: 'MODIFIED', object, seq: this.#set(key, next) }];
    return [];
  }

  /** Ends the relist: DELETED for everything known that the list did not contain. */
  endRelist(): Diff[] {
    const seen = this.#seen ?? new Set();
    this.#seen = undefined;
    const vanished: Array<[string, Known]> = [];
    for (const [key, known] of this.#known) if (!seen.has(key)) vanished.push([key, known]);
    return vanished.map(([key, known]) => ({ type: 'DELETED', key, known, seq: this.#set(key, undefined) }));
  }

  /** Keeps every change up to `seq` (the consumer took the event that carried it). */
  commit(seq: number): void {
    const n = seq - this.#base;
    if (n <= this.#head) return;
    this.#head = Math.min(n, this.#journal.length);
    if (this.#head === this.#journal.length) {
      this.#base += this.#head;
      this.#journal.length = 0;
      this.#before.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#journal.length) {
      this.#base += this.#head;
      this.#journal = this.#journal.slice(this.#head);
      this.#before = this.#before.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Undoes every change not committed (received, never taken), newest first. */
  rollback(): void {
    for (let i = this.#journal.length - 1; i >= this.#head; i--) {
      const key = this.#journal[i] as string;
      const prev = this.#before[i];
      if (prev) this.#known.set(key, prev);
      else this.#known.delete(key);
    }
    this.#base += this.#journal.length;
    this.#journal.length = 0;
    this.#before.length = 0;
    this.#head = 0;
    this.#seen = undefined;
  }

  /** Changes one key, journaled; returns the sequence number after the change. */
  #set(key: string, value: Known | undefined): number {
    this.#journal.push(key);
    this.#before.push(this.#known.get(key));
    if (value) this.#known.set(key, value);
    else this.#known.delete(key);
    return this.seq;
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
