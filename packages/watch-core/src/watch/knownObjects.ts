// KnownObjects: what the consumer holds of each object, journaled, and the diff of a relist against it.
import { changeBetween, type Identity, keyOf, type WatchEventType } from '../internal/index.ts';

interface Meta {
  name?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
}
/** What is remembered of one delivered object: its uid and resourceVersion. */
type Known = Identity;

/**
 * A {@link Known} as it is kept: one flat string — a header character (the resourceVersion's length, and whether the
 * uid and the resourceVersion are defined), the resourceVersion, the uid — instead of an object holding two strings
 * (~60 bytes less per object, and one allocation instead of three); a resourceVersion too long for the header, or an
 * identity from a view, stays an object.
 */
type Packed = string | Known;

/** A relist's listed keys are the keys held (see `#seen`). */
const KNOWN: unique symbol = Symbol('known');

/** Longest resourceVersion a header character can carry (etcd's are at most 20 digits). */
const PACKED_RV_MAX = 0x3fff;

function pack(uid: string | undefined, resourceVersion: string | undefined): Packed {
  const rvLength = resourceVersion?.length ?? 0;
  if (rvLength > PACKED_RV_MAX) return { uid, resourceVersion };
  const header = String.fromCharCode((rvLength << 2) | (resourceVersion === undefined ? 0 : 1) | (uid === undefined ? 0 : 2));
  const packed = header + (resourceVersion ?? '') + (uid ?? '');
  packed.charCodeAt(0); // flat: see keyOf
  return packed;
}

function unpack(p: Packed): Known {
  if (typeof p !== 'string') return p;
  const header = p.charCodeAt(0);
  const end = 1 + (header >> 2);
  return {
    resourceVersion: header & 1 ? p.slice(1, end) : undefined,
    uid: header & 2 ? p.slice(end) : undefined,
  };
}

/** `changeBetween(unpack(before), unpack(now))` without unpacking the common case: the same version again. */
function changeOfPacked(before: Packed | undefined, now: Packed): ReturnType<typeof changeBetween> {
  if (before === undefined) return 'added';
  // Equal packings: the same uid and resourceVersion; no change when that resourceVersion is defined.
  if (typeof before === 'string' && before === now) return before.charCodeAt(0) & 1 ? 'none' : 'modified';
  return changeBetween(unpack(before), unpack(now));
}

/**
 * Where the objects a consumer holds are recorded when not in the watcher: a read-only view of them, such as a
 * shared watch's `Store` (one record per object, as client-go's DeltaFIFO uses the informer's store as its
 * `knownObjects`). It must hold exactly what the consumer has taken: the shared watch applies each item to its store
 * as it takes it.
 */
export interface KnownView {
  /** The identity of the object held under `key`, undefined when none is held. */
  get(key: string): Identity | undefined;
  /** The keys of every object held. */
  keys(): Iterable<string>;
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
 *
 * Given a {@link KnownView}, it keeps no record of its own: only the changes not taken yet, on top of the view
 * (which holds what was taken); a commit drops them, a rollback forgets them.
 */
export class KnownObjects {
  /** Own records (no view), or the changes not committed yet on top of the view (`null`: deleted). */
  readonly #known = new Map<string, Packed | null>();
  readonly #view: KnownView | undefined;
  /** With a view: per key, how many of its changes are not committed yet. */
  readonly #pending: Map<string, number> | undefined;
  /** Undo records of changes not committed yet (two parallel arrays, no tuple per change): the key, and its value before. */
  #journal: string[] = [];
  #before: Array<Packed | undefined> = [];
  /** The sequence number of `#journal[0]`; records before `#head` are committed. */
  #base = 0;
  #head = 0;
  /**
   * The keys the relist being compared has listed; `KNOWN` while nothing was held when it began (no view): then they
   * are exactly the keys held, and no set is kept (a first sync of 10k objects, ~0.5 MB less).
   */
  #seen: Set<string> | typeof KNOWN | undefined;

  constructor(view?: KnownView) {
    this.#view = view;
    this.#pending = view ? new Map() : undefined;
  }

  /** How many objects the consumer holds (with a view: counted, not stored). */
  get size(): number {
    if (!this.#view) return this.#known.size;
    let n = 0;
    for (const _ of this.#held()) n += 1;
    return n;
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
    // A change that is not a listing, during a relist that uses the held keys as its listed ones: list them now.
    if (this.#seen === KNOWN) this.#seen = new Set(this.#known.keys());
    const key = keyOf(meta);
    this.#set(key, type === 'DELETED' ? undefined : pack(meta?.uid, meta?.resourceVersion));
  }

  /** How many distinct keys the relist being compared has listed so far (a LIST page must add one). */
  get listedKeys(): number {
    const seen = this.#seen;
    return seen === KNOWN ? this.#known.size : (seen?.size ?? 0);
  }

  /** Whether the relist being compared has listed `key` already (WatchList initial events must not repeat one). */
  hasListed(key: string): boolean {
    const seen = this.#seen;
    return seen === KNOWN ? this.#known.has(key) : (seen?.has(key) ?? false);
  }

  /** Starts comparing a relist. */
  beginRelist(): void {
    this.#seen = !this.#view && this.#known.size === 0 ? KNOWN : new Set();
  }

  /** One listed object: the events (zero to two) that bring the consumer up to date. */
  listed(object: object, meta: Meta | undefined, key: string = keyOf(meta)): Diff[] {
    if (this.#seen !== KNOWN) this.#seen?.add(key);
    const prev = this.#get(key);
    const next = pack(meta?.uid, meta?.resourceVersion);
    switch (changeOfPacked(prev, next)) {
      case 'added':
        return [{ type: 'ADDED', object, seq: this.#set(key, next) }];
      case 'recreated':
        // Two changes, so that taking only the DELETED commits only the deletion.
        return [
          { type: 'DELETED', key, known: unpack(prev as Packed), seq: this.#set(key, undefined) },
          { type: 'ADDED', object, seq: this.#set(key, next) },
        ];
      case 'modified':
        return [{ type: 'MODIFIED', object, seq: this.#set(key, next) }];
      default:
        return [];
    }
  }

  /** Ends the relist: DELETED for everything known that the list did not contain. */
  endRelist(): Diff[] {
    const seen = this.#seen ?? new Set();
    this.#seen = undefined;
    if (seen === KNOWN) return []; // every key held was listed
    const vanished: Array<[string, Packed]> = [];
    for (const [key, known] of this.#held()) if (!seen.has(key)) vanished.push([key, known]);
    return vanished.map(([key, known]) => ({ type: 'DELETED', key, known: unpack(known), seq: this.#set(key, undefined) }));
  }

  /** Keeps every change up to `seq` (the consumer took the event that carried it). */
  commit(seq: number): void {
    const n = seq - this.#base;
    if (n <= this.#head) return;
    const to = Math.min(n, this.#journal.length);
    const pending = this.#pending;
    if (pending) {
      // Taken: the view holds these now; what is left of a key on top of it is its changes not taken yet.
      for (let i = this.#head; i < to; i++) {
        const key = this.#journal[i] as string;
        const left = (pending.get(key) ?? 1) - 1;
        if (left > 0) pending.set(key, left);
        else {
          pending.delete(key);
          this.#known.delete(key);
        }
      }
    }
    this.#head = to;
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

  /**
   * Commits up to `seq` as {@link KnownObjects.commit} does, except the change of `key` that `seq` ends: its event
   * was taken and withheld (a sharded watcher's object of a range just lost), so what the consumer holds of `key`
   * stays what it was — a later relist delivers it (or its tombstone) instead of taking it as delivered.
   */
  withhold(seq: number, key: string): void {
    const i = seq - this.#base - 1;
    if (this.#pending || i < this.#head || i >= this.#journal.length || this.#journal[i] !== key) {
      this.commit(seq);
      return;
    }
    const held = this.#before[i];
    this.commit(seq);
    // A later change of the key, not taken yet: undoing it must come back to what the consumer holds.
    for (let j = this.#head; j < this.#journal.length; j++) {
      if (this.#journal[j] === key) {
        this.#before[j] = held;
        return;
      }
    }
    if (held) this.#known.set(key, held);
    else this.#known.delete(key);
  }

  /** Undoes every change not committed (received, never taken), newest first. */
  rollback(): void {
    if (this.#pending) {
      this.#known.clear(); // with a view, only uncommitted changes are kept here
      this.#pending.clear();
    } else {
      for (let i = this.#journal.length - 1; i >= this.#head; i--) {
        const key = this.#journal[i] as string;
        const prev = this.#before[i];
        if (prev) this.#known.set(key, prev);
        else this.#known.delete(key);
      }
    }
    this.#base += this.#journal.length;
    this.#journal.length = 0;
    this.#before.length = 0;
    this.#head = 0;
    this.#seen = undefined;
  }

  /** What the consumer holds (or will, once it takes what is pending) of `key`. */
  #get(key: string): Packed | undefined {
    const own = this.#known.get(key);
    if (own !== undefined || !this.#view) return own ?? undefined;
    return this.#view.get(key);
  }

  /** Every key held, with what is held of it. */
  *#held(): Iterable<[string, Packed]> {
    const view = this.#view;
    if (!view) {
      for (const [key, known] of this.#known) if (known) yield [key, known];
      return;
    }
    for (const key of view.keys()) {
      const known = this.#get(key);
      if (known) yield [key, known];
    }
    for (const [key, known] of this.#known) if (known && !view.get(key)) yield [key, known];
  }

  /** Changes one key, journaled; returns the sequence number after the change. */
  #set(key: string, value: Packed | undefined): number {
    this.#journal.push(key);
    if (this.#pending) {
      this.#before.push(undefined);
      this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
      this.#known.set(key, value ?? null);
    } else {
      this.#before.push(this.#known.get(key) ?? undefined);
      if (value) this.#known.set(key, value);
      else this.#known.delete(key);
    }
    return this.seq;
  }
}
