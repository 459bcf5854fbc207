import { collectionPath, KwatchError, type ObjectMeta, StatusSchema, type WatchTarget } from '@kwatch/models';
import type { Backoff } from './backoff.ts';
import { type Clock, sleep } from './clock.ts';
import { apiErrorFrom, DecodeError, TransportError } from './errors.ts';
import { WatchEvent, type WatchMarker } from './events.ts';
import { type DiffEvent, KnownObjects, splitKey } from './knownObjects.ts';
import { LineSplitter, parseWatchLine } from './lineDecoder.ts';
import type { WatcherHooks } from './options.ts';
import type { StreamBody, WatchTransport } from './transport.ts';

/** A sync in progress: the initial state, or a resync after 410 Gone. */
interface Sync {
  readonly initial: boolean;
  /** Ask for data not older than this resourceVersion; undefined for a consistent read. */
  readonly notOlderThan: string | undefined;
  objects: number;
}

/**
 * The watcher's states. One transition function ({@link Machine.step}) moves between them:
 *
 *   start ─▶ sync ─▶ list ⟲ ─▶ connect ─▶ watch ⟲ ─▶ connect …
 *                └──────────▶ connect(WatchList) ─▶ watch(initial events) ─▶ watch …
 *   any failure ─▶ backoff ─▶ (retry) | sync (410, managed) | fatal ─▶ throw
 */
export type State =
  | { readonly kind: 'start' }
  | { readonly kind: 'sync'; readonly sync: Sync }
  | { readonly kind: 'list'; readonly sync: Sync; readonly continueToken: string | undefined }
  | { readonly kind: 'connect'; readonly sync: Sync | undefined }
  | {
      readonly kind: 'watch';
      readonly body: StreamBody;
      readonly iterator: AsyncIterator<Uint8Array>;
      readonly splitter: LineSplitter;
      sync: Sync | undefined;
    }
  | { readonly kind: 'backoff'; readonly delayMs: number; readonly next: State }
  | { readonly kind: 'fatal'; readonly error: KwatchError }
  | { readonly kind: 'done' };

/** What the machine yields: object events and (with markers on) markers. */
export type Item<T> = WatchEvent<T> | WatchMarker;

/** What a watcher's health reports. */
export interface WatcherHealth {
  state: 'idle' | 'listing' | 'connecting' | 'watching' | 'backoff' | 'stopped' | 'failed';
  /** When the last event or bookmark arrived (ms since the epoch), if any. */
  lastEventAt: number | undefined;
  resourceVersion: string | undefined;
  /** Watch requests opened after the first one. */
  reconnects: number;
  /** Relists after 410 Gone (not counting the initial list). */
  relists: number;
  /** Retryable failures since the last good event. */
  consecutiveErrors: number;
}

/** Everything the machine needs; built by the Watcher for each stream. */
export interface MachineConfig<T> {
  readonly target: WatchTarget<T>;
  readonly transport: WatchTransport;
  readonly clock: Clock;
  readonly backoff: Backoff;
  readonly signal: AbortSignal;
  readonly manage: boolean;
  readonly quitOnTimeout: boolean;
  readonly markers: boolean;
  /** The resourceVersion the user gave (unmanaged streams repeat it on every request). */
  readonly startResourceVersion: string | undefined;
  readonly timeoutSeconds: number;
  readonly allowWatchBookmarks: boolean;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly inactivityTimeoutMs: number;
  readonly maxConsecutiveErrors: number;
  readonly maxLineBytes: number;
  readonly pageSize: number;
  readonly watchList: 'auto' | boolean;
  readonly hooks: WatcherHooks;
  /** Turns a raw object into the event object (sets its prototype; validates with a schema). */
  readonly decode: (raw: Record<string, unknown>) => T;
}

/** State kept across streams of one watcher (Hikaru keeps the resourceVersion after stop()). */
export interface Shared {
  resourceVersion: string | undefined;
  known: KnownObjects;
  watchListUnsupported: boolean;
  health: WatcherHealth;
}

/** Creates the state a Watcher keeps across its streams. */
export function newShared(resourceVersion: string | undefined): Shared {
  return {
    resourceVersion,
    known: new KnownObjects(),
    watchListUnsupported: false,
    health: { state: 'idle', lastEventAt: undefined, resourceVersion, reconnects: 0, relists: 0, consecutiveErrors: 0 },
  };
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

function safely<A>(fn: ((a: A) => void) | undefined, arg: A): void {
  try {
    fn?.(arg);
  } catch {
    /* a hook must not break the stream */
  }
}

/** The watcher as a state machine: {@link step} is its only transition function. */
export class Machine<T> {
  readonly #c: MachineConfig<T>;
  readonly #s: Shared;
  #unauthorizedRetried = false;
  #opened = 0;
  /** Whether the chunk being handled held an event or bookmark (the clock is read once per chunk, not per event). */
  #eventInChunk = false;

  constructor(config: MachineConfig<T>, shared: Shared) {
    this.#c = config;
    this.#s = shared;
  }

  /** Moves from `state` to the next state, with the items to yield on the way. Throws only in `fatal`. */
  async step(state: State): Promise<[Item<T>[], State]> {
    if (this.#c.signal.aborted && state.kind !== 'done') return [[], this.#stopped(state)];
    switch (state.kind) {
      case 'start':
        return [[], this.#begin()];
      case 'sync':
        return [[], this.#startSync(state.sync)];
      case 'list':
        return this.#guard(state, () => this.#listPage(state));
      case 'connect':
        return this.#guard(state, () => this.#connect(state));
      case 'watch':
        return this.#guard(state, () => this.#read(state));
      case 'backoff': {
        this.#s.health.state = 'backoff';
        const slept = await sleep(state.delayMs, this.#c.signal, this.#c.clock);
        return [[], slept ? state.next : this.#stopped(state)];
      }
      case 'fatal':
        this.#s.health.state = 'failed';
        throw state.error;
      case 'done':
        return [[], state];
    }
  }

  /** Frees what a state holds (an open response). Safe to call on any state, more than once. */
  release(state: State): void {
    if (state.kind === 'watch') state.body.close();
  }

  #stopped(state: State): State {
    this.release(state);
    this.#s.health.state = 'stopped';
    return { kind: 'done' };
  }

  #begin(): State {
    if (this.#c.manage && this.#s.resourceVersion === undefined) {
      return { kind: 'sync', sync: { initial: true, notOlderThan: undefined, objects: 0 } };
    }
    return { kind: 'connect', sync: undefined };
  }

  #startSync(sync: Sync): State {
    this.#s.known.beginRelist();
    const useWatchList = this.#c.watchList === true || (this.#c.watchList === 'auto' && !this.#s.watchListUnsupported);
    return useWatchList ? { kind: 'connect', sync } : { kind: 'list', sync, continueToken: undefined };
  }

  async #guard(state: State, run: () => Promise<[Item<T>[], State]>): Promise<[Item<T>[], State]> {
    try {
      return await run();
    } catch (err) {
      return this.#fail(err, state);
    }
  }

  #query(): URLSearchParams {
    const q = new URLSearchParams();
    if (this.#c.labelSelector) q.set('labelSelector', this.#c.labelSelector);
    if (this.#c.fieldSelector) q.set('fieldSelector', this.#c.fieldSelector);
    return q;
  }

  #path(): string {
    return collectionPath(this.#c.target.info, this.#c.target.namespace);
  }

  async #listPage(state: Extract<State, { kind: 'list' }>): Promise<[Item<T>[], State]> {
    this.#s.health.state = 'listing';
    const q = this.#query();
    q.set('limit', String(this.#c.pageSize));
    if (state.continueToken) q.set('continue', state.continueToken);
    else if (state.sync.notOlderThan) {
      q.set('resourceVersion', state.sync.notOlderThan);
      q.set('resourceVersionMatch', 'NotOlderThan');
    }
    const page = (await this.#c.transport.getJson(this.#path(), q, this.#c.signal)) as {
      metadata?: { resourceVersion?: string; continue?: string };
      items?: Record<string, unknown>[];
    };
    const items: Item<T>[] = [];
    const { info } = this.#c.target;
    for (const raw of page.items ?? []) {
      // List items come without apiVersion and kind; make them look like watched objects.
      raw.apiVersion ??= info.apiVersion;
      raw.kind ??= info.kind;
      this.#pushDiff(items, this.#s.known.listed(raw, raw.metadata as ObjectMeta | undefined, this.#tombstone));
      state.sync.objects += 1;
    }
    this.#s.health.consecutiveErrors = 0;
    if (page.metadata?.continue) return [items, { kind: 'list', sync: state.sync, continueToken: page.metadata.continue }];
    this.#finishSync(items, state.sync, page.metadata?.resourceVersion, 'list');
    return [items, { kind: 'connect', sync: undefined }];
  }

  #finishSync(items: Item<T>[], sync: Sync, resourceVersion: string | undefined, via: 'list' | 'watch-list'): void {
    this.#pushDiff(items, this.#s.known.endRelist(this.#tombstone));
    if (resourceVersion) this.#setRv(resourceVersion);
    if (!sync.initial) this.#s.health.relists += 1;
    if (this.#c.markers) items.push({ type: 'SYNCED', initial: sync.initial, resourceVersion: this.#s.resourceVersion });
    safely(this.#c.hooks.relisted, {
      initial: sync.initial,
      objects: sync.objects,
      resourceVersion: this.#s.resourceVersion,
      via,
    });
  }

  #pushDiff(items: Item<T>[], diff: DiffEvent[]): void {
    for (const d of diff) {
      items.push(
        new WatchEvent(d.type, d.tombstone ? (d.object as T) : this.#c.decode(d.object as Record<string, unknown>), true),
      );
    }
  }

  readonly #tombstone = (key: string, known: { uid: string | undefined; resourceVersion: string | undefined }): object => {
    const { namespace, name } = splitKey(key);
    const { info } = this.#c.target;
    const metadata: Record<string, string> = { name };
    if (namespace) metadata.namespace = namespace;
    if (known.uid) metadata.uid = known.uid;
    if (known.resourceVersion) metadata.resourceVersion = known.resourceVersion;
    const raw = { apiVersion: info.apiVersion, kind: info.kind, metadata };
    // Tombstones skip schema validation (they hold metadata only) but get the model's prototype.
    return this.#c.target.schema ? raw : (this.#c.decode(raw) as object);
  };

  async #connect(state: Extract<State, { kind: 'connect' }>): Promise<[Item<T>[], State]> {
    this.#s.health.state = 'connecting';
    const q = this.#query();
    q.set('watch', 'true');
    if (this.#c.allowWatchBookmarks || state.sync) q.set('allowWatchBookmarks', 'true');
    q.set('timeoutSeconds', String(this.#c.timeoutSeconds));
    const rv = state.sync ? state.sync.notOlderThan : this.#c.manage ? this.#s.resourceVersion : this.#c.startResourceVersion;
    if (state.sync) {
      q.set('sendInitialEvents', 'true');
      q.set('resourceVersionMatch', 'NotOlderThan');
      q.set('resourceVersion', rv ?? '');
    } else if (rv !== undefined) {
      q.set('resourceVersion', rv);
    }
    const body = await this.#c.transport.openStream(this.#path(), q, this.#c.signal);
    if (this.#opened++ > 0) this.#s.health.reconnects += 1;
    this.#unauthorizedRetried = false;
    this.#s.health.state = 'watching';
    safely(this.#c.hooks.connected, { resourceVersion: rv, reconnects: this.#s.health.reconnects });
    const iterator = body[Symbol.asyncIterator]();
    return [[], { kind: 'watch', body, iterator, splitter: new LineSplitter(this.#c.maxLineBytes), sync: state.sync }];
  }

  async #read(state: Extract<State, { kind: 'watch' }>): Promise<[Item<T>[], State]> {
    const next = await this.#nextChunk(state);
    if (next.done) {
      state.splitter.end(); // throws if the stream ended mid-line
      this.release(state);
      if (state.sync)
        throw new TransportError('NETWORK_ERROR', 'The watch ended before the initial events were complete', { retryable: true });
      this.#s.health.consecutiveErrors = 0;
      if (this.#c.quitOnTimeout) {
        this.#s.health.state = 'stopped';
        return [[], { kind: 'done' }];
      }
      return [[], { kind: 'connect', sync: undefined }];
    }
    const items: Item<T>[] = [];
    this.#eventInChunk = false;
    try {
      for (const line of state.splitter.push(next.value)) this.#handleLine(line, state, items);
    } catch (err) {
      // Deliver what decoded before the failure, then handle it.
      this.#stampEvents();
      const [more, next] = this.#fail(err, state);
      return [[...items, ...more], next];
    }
    this.#stampEvents();
    return [items, state];
  }

  #nextChunk(state: Extract<State, { kind: 'watch' }>): Promise<IteratorResult<Uint8Array>> {
    const { clock } = this.#c;
    const timer = clock.setTimeout(() => {
      state.body.close(
        new TransportError('STALLED', `No data from the API server for ${this.#c.inactivityTimeoutMs} ms; reconnecting`, {
          retryable: true,
        }),
      );
    }, this.#c.inactivityTimeoutMs);
    return state.iterator.next().finally(() => clock.clearTimeout(timer));
  }

  #handleLine(line: string, state: Extract<State, { kind: 'watch' }>, items: Item<T>[]): void {
    const { type, object } = parseWatchLine(line);
    const meta = object.metadata as ObjectMeta | undefined;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        this.#seen(meta?.resourceVersion);
        if (state.sync && type === 'ADDED') {
          state.sync.objects += 1;
          this.#pushDiff(items, this.#s.known.listed(object, meta, this.#tombstone));
        } else {
          // Only a managed stream resyncs, so only it needs to remember what it delivered.
          if (this.#c.manage) this.#s.known.observe(type, meta);
          items.push(new WatchEvent(type, this.#c.decode(object)));
        }
        return;
      }
      case 'BOOKMARK': {
        const rv = meta?.resourceVersion;
        this.#seen(rv);
        if (rv) safely(this.#c.hooks.bookmark, { resourceVersion: rv });
        if (state.sync && meta?.annotations?.[INITIAL_EVENTS_END] === 'true') {
          const sync = state.sync;
          state.sync = undefined;
          this.#finishSync(items, sync, rv, 'watch-list');
        }
        return;
      }
      case 'ERROR': {
        const parsed = StatusSchema.safeParse(object);
        const status = parsed.success ? parsed.data : undefined;
        throw apiErrorFrom(status?.code ?? 500, status, `watch ${this.#path()}`);
      }
      default:
        throw new DecodeError('DECODE_ERROR', `Unknown watch event type ${JSON.stringify(type.slice(0, 40))}`, {
          retryable: true,
        });
    }
  }

  #seen(resourceVersion: string | undefined): void {
    this.#eventInChunk = true;
    this.#s.health.consecutiveErrors = 0;
    if (resourceVersion) this.#setRv(resourceVersion);
  }

  #stampEvents(): void {
    if (this.#eventInChunk) this.#s.health.lastEventAt = this.#c.clock.now();
  }

  #setRv(resourceVersion: string): void {
    this.#s.resourceVersion = resourceVersion;
    this.#s.health.resourceVersion = resourceVersion;
  }

  /** Decides what a failure leads to (and what to yield on the way). */
  #fail(err: unknown, state: State): [Item<T>[], State] {
    this.release(state);
    if (this.#c.signal.aborted) return [[], this.#stopped(state)];
    const error =
      err instanceof KwatchError
        ? err
        : new TransportError('NETWORK_ERROR', `Unexpected failure: ${(err as Error)?.message ?? String(err)}`, {
            retryable: true,
            cause: err,
          });
    safely(this.#c.hooks.error, error);
    const sync = state.kind === 'list' || state.kind === 'connect' || state.kind === 'watch' ? state.sync : undefined;

    if (error.code === 'GONE') {
      if (!this.#c.manage) return [[], { kind: 'fatal', error }];
      if (sync?.notOlderThan) {
        // The relist at our last resourceVersion was refused too: fall back to a consistent read.
        return [[], { kind: 'sync', sync: { initial: sync.initial, notOlderThan: undefined, objects: 0 } }];
      }
      if (sync) return [[], { kind: 'sync', sync: { ...sync, objects: 0 } }]; // e.g. an expired continue token
      const resync: Sync = { initial: false, notOlderThan: this.#s.resourceVersion, objects: 0 };
      return [this.#c.markers ? [{ type: 'RESYNC', reason: error }] : [], { kind: 'sync', sync: resync }];
    }
    if (sync && state.kind === 'connect' && !error.retryable && (error.code === 'HTTP_ERROR' || error.code === 'NOT_FOUND')) {
      // The server does not take WatchList requests (400/422): list instead, from now on.
      if (this.#c.watchList === 'auto') {
        this.#s.watchListUnsupported = true;
        return [[], { kind: 'list', sync, continueToken: undefined }];
      }
    }
    if (error.code === 'UNAUTHORIZED' && !this.#unauthorizedRetried) {
      // Credentials may have rotated: the next request asks the KubeConfig again. Once.
      this.#unauthorizedRetried = true;
      return [[], this.#retryOf(state)];
    }
    if (!error.retryable) return [[], { kind: 'fatal', error }];
    const health = this.#s.health;
    health.consecutiveErrors += 1;
    if (health.consecutiveErrors > this.#c.maxConsecutiveErrors) return [[], { kind: 'fatal', error }];
    const delayMs = this.#c.backoff.next(this.#c.clock.now(), (error as { retryAfterMs?: number }).retryAfterMs);
    safely(this.#c.hooks.reconnecting, { error, delayMs, consecutiveErrors: health.consecutiveErrors });
    return [[], { kind: 'backoff', delayMs, next: this.#retryOf(state) }];
  }

  /** The state that tries again what `state` was doing. */
  #retryOf(state: State): State {
    if (state.kind === 'list') return { kind: 'list', sync: state.sync, continueToken: state.continueToken };
    if (state.kind === 'connect' || state.kind === 'watch') {
      // An interrupted initial-events stream starts its sync over; the diff keeps it exact.
      return state.sync ? { kind: 'sync', sync: { ...state.sync, objects: 0 } } : { kind: 'connect', sync: undefined };
    }
    return state;
  }
}
