import {
  type Clock,
  EventClass,
  isMarker,
  KwatchError,
  systemClock,
  type Tombstone,
  tombstoneEvent,
  type WatchEvent,
  type WatchMarker,
} from '../internal/index.ts';
import type { WatcherClass as Watcher } from '../watch/index.ts';
import { keyOf, splitKey } from '../watch/index.ts';
import { type CatchUp, Feed } from './feed.ts';
import { Store } from './store.ts';

type Keyed = {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } | undefined;
};

/** What a subscriber held of one object: its identity and version (not the object). */
interface Held {
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
}

/** A subscriber's stream: its feed, and whether it wants markers. */
interface Subscriber<T> {
  readonly feed: Feed<WatchEvent<T> | WatchMarker, Held>;
  readonly markers: boolean;
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
 * subscriber's bounded {@link Feed} without waiting for any. Joining subscribers and lagging ones
 * catch up from the store. The watch runs while it has holders, and stops `graceMs` after the last leaves.
 */
export class SharedWatch<T extends Keyed> {
  readonly store = new Store<T>();
  readonly #watcher: Watcher<never, T>;
  readonly #config: SharedWatchConfig;
  readonly #clock: Clock;
  /** The watcher's view (what the loop took), including a resync being received: what "before" means for a feed. */
  readonly #latest = new Map<string, Held>();
  readonly #subscribers = new Set<Subscriber<T>>();
  #holders = 0;
  #grace: unknown;
  #running = false;
  #ended = false;
  #resourceVersion: string | undefined;

  constructor(watcher: Watcher<never, T>, config: SharedWatchConfig) {
    this.#watcher = watcher;
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
   * markers, once the initial state is complete), then every item the loop takes from then on.
   */
  subscribe(options: {
    markers: boolean;
    bufferSize: number | undefined;
    signal: AbortSignal | undefined;
  }): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined> {
    const subscriber: Subscriber<T> = {
      markers: options.markers,
      feed: new Feed(options.bufferSize ?? this.#config.bufferSize, (c) => this.#catchUp(c, options.markers), true),
    };
    this.#subscribers.add(subscriber);
    this.acquire();
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      options.signal?.removeEventListener('abort', leave);
      this.#subscribers.delete(subscriber);
      this.release();
    };
    // Also when the stream is never pulled: an abort before the first pull leaves too.
    options.signal?.addEventListener('abort', leave, { once: true });
    if (options.signal?.aborted) leave();
    return (async function* () {
      try {
        yield* subscriber.feed.iterate(options.signal);
      } finally {
        leave();
      }
    })();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#config.onEnd();
    this.#watcher.stop();
  }

  async #run(): Promise<void> {
    try {
      for await (const item of this.#watcher.stream({ markers: true })) this.#dispatch(item);
      for (const s of this.#subscribers) s.feed.end();
    } catch (error) {
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
    const before = this.#latest.get(key);
    if (item.type === 'DELETED') this.#latest.delete(key);
    else this.#latest.set(key, { uid: meta?.uid, resourceVersion: meta?.resourceVersion });
    this.#resourceVersion = meta?.resourceVersion ?? this.#resourceVersion;
    this.store.apply(item);
    for (const s of this.#subscribers) s.feed.push(item, key, before);
  }

  /**
   * What brings a subscriber up to date from the store: everything (a new subscriber), or the
   * difference for the keys whose changes it dropped. `undefined` while the store holds a resync back.
   */
  #catchUp(catchUp: CatchUp<Held>, markers: boolean): Array<WatchEvent<T> | WatchMarker> | undefined {
    const store = this.store;
    if (store.isResyncing) return undefined;
    const out: Array<WatchEvent<T> | WatchMarker> = [];
    const ready = store.isReady;
    const resourceVersion = this.#resourceVersion;
    if (catchUp === 'full') {
      for (const object of store.list()) out.push(new EventClass('ADDED', object, true) as WatchEvent<T>);
      if (markers && ready) out.push({ type: 'SYNCED', initial: true, resourceVersion });
      return out;
    }
    this.#config.onOverflow?.();
    if (markers && ready) {
      const reason = new KwatchError(
        'SUBSCRIBER_OVERFLOW',
        'This subscriber fell behind its queue bound; resynced from the store',
      );
      out.push({ type: 'RESYNC', reason });
    }
    for (const [key, before] of catchUp) {
      const { namespace, name } = splitKey(key);
      const now = store.get(namespace, name);
      const meta = now?.metadata;
      if (!before) {
        if (now) out.push(new EventClass('ADDED', now, true) as WatchEvent<T>);
      } else if (!now || meta?.uid !== before.uid) {
        out.push(tombstoneEvent(this.#tombstone(key, before)));
        if (now) out.push(new EventClass('ADDED', now, true) as WatchEvent<T>);
      } else if (meta?.resourceVersion !== before.resourceVersion) {
        out.push(new EventClass('MODIFIED', now, true) as WatchEvent<T>);
      }
    }
    if (markers && ready) out.push({ type: 'SYNCED', initial: false, resourceVersion });
    return out;
  }

  #tombstone(key: string, held: Held): Tombstone<T> {
    const { namespace, name } = splitKey(key);
    const { apiVersion, kind } = this.#watcher.target.info;
    const metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string } = { name };
    if (namespace) metadata.namespace = namespace;
    if (held.uid) metadata.uid = held.uid;
    if (held.resourceVersion) metadata.resourceVersion = held.resourceVersion;
    return { apiVersion, kind, metadata } as Tombstone<T>;
  }
}
