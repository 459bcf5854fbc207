// One managed watch shared by every subscriber of the same identity: one loop, one Store, a Feed per subscriber.
import {
  type Clock,
  changeOf,
  EventClass,
  type Identity,
  isMarker,
  KwatchError,
  keyOf,
  LiveStream,
  splitKey,
  systemClock,
  tombstoneEvent,
  tombstoneOf,
  type WatchEvent,
  type WatchMarker,
} from '../internal/index.ts';
import { useKnownView, type WatcherClass as Watcher } from '../watch/index.ts';
import { type CatchUp, Feed } from './feed.ts';
import { knownViewOf, recordOf, Store, stopStore } from './store.ts';

type Keyed = {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } | undefined;
};

/** A subscriber's stream: its feed (what it held of a key is the store's record of it then), and whether it wants markers. */
interface Subscriber<T> {
  readonly feed: Feed<WatchEvent<T> | WatchMarker, T>;
  readonly markers: boolean;
  /** It has taken a `SYNCED`: the next one it gets is not its initial one. */
  synced: boolean;
}

/** How a {@link SharedWatch} ends: the factory forgets it. */
export interface SharedWatchConfig {
  readonly graceMs: number;
  readonly bufferSize: number;
  readonly clock: Clock | undefined;
  /** Called once when the watch ended (stopped after the grace period, or failed). */
  readonly onEnd: () => void;
  /** Called when a stream subscriber overflowed its queue and is resynced from the store (for metrics). */
  readonly onOverflow?: (() => void) | undefined;
}

/**
 * One managed watch shared by every subscriber of the same (kind, namespace, selectors,
 * metadataOnly): a single consumer loop takes the watcher's stream (so the watcher commits what
 * this loop took), applies each item to the shared {@link Store}, and hands it to every
 * subscriber's bounded {@link Feed} without waiting for any. The store is the one record of each
 * object: what a subscriber held of a key before a change is the store's record of it then (a
 * resync being received included), and a joining or lagging subscriber catches up from it.
 * The watch runs while it has holders, and stops `graceMs` after the last leaves.
 */
export class SharedWatch<T extends Keyed> {
  readonly store = new Store<T>();
  readonly #watcher: Watcher<never, T>;
  readonly #config: SharedWatchConfig;
  readonly #clock: Clock;
  readonly #subscribers = new Set<Subscriber<T>>();
  #holders = 0;
  #grace: unknown;
  #running = false;
  #ended = false;
  #failed = false;
  #resourceVersion: string | undefined;

  constructor(watcher: Watcher<never, T>, config: SharedWatchConfig) {
    this.#watcher = watcher;
    // One record per object: the watcher diffs its relists against this store, not a map of its own.
    watcher[useKnownView](knownViewOf(this.store));
    this.#config = config;
    this.#clock = config.clock ?? systemClock;
  }

  /** The shared watcher (for `health()`). */
  get watcher(): Watcher<never, T> {
    return this.#watcher;
  }

  /** Holders: store handles and streams. */
  get holders(): number {
    return this.#holders;
  }

  /** Items queued for the slowest stream subscriber (0 without any). */
  get maxQueueDepth(): number {
    let max = 0;
    for (const s of this.#subscribers) max = Math.max(max, s.feed.depth);
    return max;
  }

  /** True once it stopped or failed; the factory then starts a new one for new subscribers. */
  get ended(): boolean {
    return this.#ended;
  }

  /** One more holder; starts the watch if it is not running, cancels a pending stop. */
  acquire(): void {
    this.#holders += 1;
    if (this.#grace !== undefined) {
      this.#clock.clearTimeout(this.#grace);
      this.#grace = undefined;
    }
    if (!this.#running) {
      this.#running = true;
      void this.#run();
    }
  }

  /** One holder fewer; the last one arms the stop after `graceMs`. */
  release(): void {
    this.#holders -= 1;
    if (this.#holders > 0 || this.#ended) return;
    this.#grace = this.#clock.setTimeout(() => {
      this.#grace = undefined;
      if (this.#holders === 0) this.#end();
    }, this.#config.graceMs);
  }

  /** Stops at once, whatever the holders (the factory is stopped). */
  stop(): void {
    if (this.#grace !== undefined) this.#clock.clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#end();
  }

  /**
   * A new subscriber's stream: the store's current objects as synthetic ADDED (then `SYNCED` with
   * markers, once the initial state is complete), then every item the loop takes from then on. It
   * holds the watch from now: leaving in any way — `return()`/`throw()` (also before the first pull,
   * or while a `next()` is pending), the `signal`, the end of the watch — lets go of it.
   */
  subscribe(options: {
    markers: boolean;
    bufferSize: number | undefined;
    signal: AbortSignal | undefined;
  }): LiveStream<WatchEvent<T> | WatchMarker> {
    const { markers } = options;
    const subscriber: Subscriber<T> = {
      markers,
      synced: false,
      feed: new Feed(
        options.bufferSize ?? this.#config.bufferSize,
        (c) => this.#catchUp(subscriber, c),
        true,
        markers
          ? (item) => {
              if (item.type === 'SYNCED') subscriber.synced = true;
            }
          : undefined,
      ),
    };
    this.#subscribers.add(subscriber);
    this.acquire();
    return new LiveStream({
      start: (signal) => subscriber.feed.iterate(signal),
      close: () => {
        this.#subscribers.delete(subscriber);
        this.release();
      },
      signal: options.signal,
    });
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#config.onEnd();
    this.#watcher.stop();
    // Stopped (not failed): the store no longer follows the server; waits for it settle, its events() end.
    if (!this.#failed) stopStore(this.store, new KwatchError('ABORTED', 'The shared watch was stopped'));
  }

  async #run(): Promise<void> {
    try {
      for await (const item of this.#watcher.stream({ markers: true })) this.#dispatch(item);
      for (const s of this.#subscribers) s.feed.end();
    } catch (error) {
      this.#failed = true;
      this.store.fail(error);
      for (const s of this.#subscribers) s.feed.end(error);
    } finally {
      this.#end();
    }
  }

  /** One item the loop took: into the store, then to every subscriber (each queues it or notes what it dropped). */
  #dispatch(item: WatchEvent<T> | WatchMarker): void {
    if (isMarker(item)) {
      if (item.type === 'SYNCED') this.#resourceVersion = item.resourceVersion;
      this.store.apply(item);
      for (const s of this.#subscribers) if (s.markers) s.feed.push(item, undefined, undefined);
      // A catch-up waits for a store that is not halfway through a resync.
      if (item.type === 'SYNCED') for (const s of this.#subscribers) s.feed.wake();
      return;
    }
    const meta = item.object.metadata;
    const key = keyOf(meta);
    const before = this.#subscribers.size > 0 ? recordOf(this.store, key) : undefined;
    this.#resourceVersion = meta?.resourceVersion ?? this.#resourceVersion;
    this.store.apply(item);
    for (const s of this.#subscribers) s.feed.push(item, key, before);
  }

  /**
   * What brings a subscriber up to date from the store: everything (a new subscriber), or the
   * difference for the keys whose changes it dropped. `undefined` while the store holds a resync back.
   * A subscriber's first `SYNCED` is its initial one, whatever it dropped before it.
   */
  #catchUp(subscriber: Subscriber<T>, catchUp: CatchUp<T>): Array<WatchEvent<T> | WatchMarker> | undefined {
    const store = this.store;
    if (store.isResyncing) return undefined;
    const out: Array<WatchEvent<T> | WatchMarker> = [];
    const markers = subscriber.markers && store.isReady;
    const resourceVersion = this.#resourceVersion;
    if (catchUp === 'full') {
      for (const object of store.list()) out.push(new EventClass('ADDED', object, true) as WatchEvent<T>);
      if (markers) out.push({ type: 'SYNCED', initial: true, resourceVersion });
      return out;
    }
    this.#config.onOverflow?.();
    const initial = !subscriber.synced;
    if (markers && !initial) {
      const reason = new KwatchError(
        'SUBSCRIBER_OVERFLOW',
        'This subscriber fell behind its queue bound; resynced from the store',
      );
      out.push({ type: 'RESYNC', reason });
    }
    const { info } = this.#watcher.target;
    for (const [key, before] of catchUp) {
      const { namespace, name } = splitKey(key);
      const now = store.get(namespace, name);
      const change = changeOf(before, now);
      if (change === 'deleted' || change === 'recreated')
        out.push(tombstoneEvent(tombstoneOf<T>(info, key, (before as { metadata?: Identity }).metadata ?? {})));
      if (change === 'added' || change === 'recreated') out.push(new EventClass('ADDED', now, true) as WatchEvent<T>);
      if (change === 'modified') out.push(new EventClass('MODIFIED', now, true) as WatchEvent<T>);
    }
    if (markers) out.push({ type: 'SYNCED', initial, resourceVersion });
    return out;
  }
}
