/**
 * The soak's consumer view and its judge. It rebuilds the state from a multiplexed stream
 * with markers and counts what a managed stream promises never to do:
 *
 * - a duplicate: an object version (uid, resourceVersion, type) delivered twice, across all
 *   streams of all watcher instances, outside a sync window;
 * - out of order: a non-synthetic event, outside a sync window, whose resourceVersion is not
 *   above the last one seen for that object;
 * - a stray: an event or marker from a watcher that is not (or no longer) the consumer's
 *   watcher for its kind (deleted or replaced: "its events stop");
 * - a missed event: between two consecutive events of an object, outside any sync window of
 *   its kind, the server made a version the consumer never saw (judged at the end against the
 *   versions the mutator's creates and updates returned: {@link Checker.missed}).
 *
 * A sync window is a watcher instance's initial sync (from its first stream up to its first
 * SYNCED, however many streams that takes) or a RESYNC ... SYNCED. A NEW watcher instance
 * knows nothing of what an earlier one delivered, so its initial sync is treated as a marked
 * resync of its kind: the consumer's view of that kind is replaced by what the new instance
 * delivers up to its SYNCED. The same instance re-added after `delWatcher` resumes: nothing is
 * reset, and it must deliver exactly what the consumer has not seen.
 */
import { isMarker, type MultiplexedEvent, type MultiplexedMarker } from '@kwatch/watch-core';

/** What the consumer knows of one object. */
export interface Seen {
  uid: string;
  rv: string;
}

type Meta = { name?: string; namespace?: string; uid?: string; resourceVersion?: string };

export class Checker {
  /** The consumer's view: `Kind/namespace/name` → uid and resourceVersion. */
  readonly state = new Map<string, Seen>();
  events = 0;
  resyncs = 0;
  duplicates = 0;
  outOfOrder = 0;
  stray = 0;
  /** Initial syncs of watcher instances that completed (SYNCED), the first three included. */
  initialSyncs = 0;
  readonly #delivered = new Set<string>();
  readonly #lastRv = new Map<string, number>();
  /** Per kind, the watcher instance the consumer expects events from; none while deleted. */
  readonly #current = new Map<string, object>();
  /** Watcher instances inside a sync window. */
  readonly #syncing = new Set<object>();
  /** Watcher instances whose initial sync runs: what they delivered so far (it replaces the kind's view at SYNCED). */
  readonly #initial = new Map<object, Map<string, Seen>>();
  /** Per kind, bumped at every adopt, RESYNC and SYNCED: two events of an object are consecutive only within one epoch. */
  readonly #epoch = new Map<string, number>();
  /** Per object, the last event seen outside a sync window, with its kind's epoch. */
  readonly #lastPlain = new Map<string, { rv: number; epoch: number }>();
  /** Consecutive events of one object outside sync windows: [key, rv before, rv after]. */
  readonly #steps: Array<[string, number, number]> = [];

  /** A new watcher instance serves `kind` (at the start, or replacing another): its initial sync is a marked resync. */
  adopt(kind: string, watcher: object): void {
    const previous = this.#current.get(kind);
    if (previous && previous !== watcher) this.#forget(previous);
    this.#current.set(kind, watcher);
    this.#syncing.add(watcher);
    this.#initial.set(watcher, new Map());
    this.#bump(kind);
  }

  /** The consumer deleted the watcher of `kind` from the multiplexer. */
  removed(kind: string): void {
    this.#current.delete(kind);
  }

  /** The same instance is back (after `delWatcher`): it resumes where it was, sync window or not. */
  resumed(kind: string, watcher: object): void {
    this.#current.set(kind, watcher);
  }

  /** A watcher that will not come back (replaced after a delete). */
  retired(watcher: object): void {
    this.#forget(watcher);
  }

  /** Kinds whose current watcher is inside a sync window (at the end: a sync that never completed). */
  openSyncs(): string[] {
    return [...this.#current].filter(([, w]) => this.#syncing.has(w)).map(([kind]) => kind);
  }

  /** Takes one item of the stream, synchronously, as the consumer receives it. */
  take(e: MultiplexedEvent<unknown> | MultiplexedMarker): void {
    const watcher = e.watcher as object;
    if (this.#current.get(e.kind) !== watcher) {
      this.stray += 1;
      return;
    }
    if (isMarker(e)) {
      this.#bump(e.kind);
      if (e.type === 'RESYNC') {
        this.#syncing.add(watcher);
        this.resyncs += 1;
        return;
      }
      this.#syncing.delete(watcher);
      const initial = this.#initial.get(watcher);
      if (initial) {
        this.#initial.delete(watcher);
        this.initialSyncs += 1;
        for (const key of [...this.state.keys()]) if (key.startsWith(`${e.kind}/`)) this.state.delete(key);
        for (const [key, v] of initial) this.state.set(key, v);
      }
      return;
    }
    this.events += 1;
    const meta = (e.object as { metadata?: Meta }).metadata ?? {};
    const key = `${e.kind}/${meta.namespace}/${meta.name}`;
    const id = `${e.kind}/${meta.uid}/${meta.resourceVersion}/${e.type}`;
    const inSync = this.#syncing.has(watcher);
    if (this.#delivered.has(id) && !inSync) this.duplicates += 1;
    this.#delivered.add(id);
    const rv = Number(meta.resourceVersion);
    const prev = this.#lastRv.get(key);
    if (!e.synthetic && !inSync && prev !== undefined && rv <= prev) this.outOfOrder += 1;
    this.#lastRv.set(key, Math.max(rv, prev ?? 0));
    if (!inSync && !e.synthetic) {
      const epoch = this.#epoch.get(e.kind) ?? 0;
      const before = this.#lastPlain.get(key);
      if (before && before.epoch === epoch) this.#steps.push([key, before.rv, rv]);
      this.#lastPlain.set(key, { rv, epoch });
    }
    const view = this.#initial.get(watcher) ?? this.state;
    if (e.type === 'DELETED') view.delete(key);
    else view.set(key, { uid: meta.uid ?? '', rv: meta.resourceVersion ?? '' });
  }

  /**
   * Events missed outside sync windows: for each pair of consecutive events of an object, the
   * versions the server made in between (`made`: per object, the resourceVersions its creates and
   * updates returned; deletions are not in it, so a missed DELETED alone is not counted here).
   */
  missed(made: Map<string, number[]>): { count: number; examples: string[] } {
    let count = 0;
    const examples: string[] = [];
    for (const [key, before, after] of this.#steps) {
      const between = (made.get(key) ?? []).filter((rv) => rv > before && rv < after);
      count += between.length;
      if (between.length > 0 && examples.length < 8) examples.push(`${key}: ${before} → ${after}, missed ${between.join(', ')}`);
    }
    return { count, examples };
  }

  #bump(kind: string): void {
    this.#epoch.set(kind, (this.#epoch.get(kind) ?? 0) + 1);
  }

  #forget(watcher: object): void {
    this.#syncing.delete(watcher);
    this.#initial.delete(watcher);
  }
}
