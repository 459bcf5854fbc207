// One watch as a state machine: LIST or WatchList sync, watch, decode, diff, and what each failure leads to.
import { collectionPath, isStatus, type ObjectMeta, type WatchTarget } from '@kwatch/models';
import type { StreamBody, WatchTransport } from '../client/index.ts';
import {
  apiErrorFrom,
  asKwatchError,
  type Clock,
  DecodeError,
  EventClass,
  inRanges,
  KwatchError,
  keyOf,
  shardSelector,
  sleep,
  TransportError,
  tombstoneEvent,
  tombstoneOf,
  type WatchEvent,
  type WatchMarker,
} from '../internal/index.ts';
import type { Shard } from '../sharding/index.ts';
import { InactivityTimer } from './inactivity.ts';
import type { Diff, KnownObjects } from './knownObjects.ts';
import { LineSplitter, parseWatchLine } from './lineDecoder.ts';
import type { ResolvedStreamOptions, ResolvedWatcherOptions } from './options.ts';
import { PACING, type Pacer } from './pacer.ts';
import { acceptFor, listQuery, watchQuery } from './query.ts';

/** What a stream yields: object events and (with markers on) markers. */
export type Item<T> = WatchEvent<T> | WatchMarker;

/** A sync (initial state, or resync after 410) that has begun and not finished. */
export interface SyncPoint {
  readonly initial: boolean;
  /** Ask for data not older than this resourceVersion; undefined for a consistent read. */
  readonly notOlderThan: string | undefined;
  /** Why a resync began (410 Gone); undefined for the initial state. */
  readonly reason: KwatchError | undefined;
}

/**
 * Where a watcher's consumer stands: the resourceVersion of the last change taken, or a sync
 * in progress. A new stream resumes from the committed position, so it describes what was
 * taken, never what merely arrived.
 */
export interface Position {
  readonly resourceVersion: string | undefined;
  readonly sync: SyncPoint | undefined;
}

/**
 * One thing a step produced, in stream order: an item to yield, a hook to call, or both or
 * neither, and the position the consumer is at once it has taken it. The watcher commits
 * (position and known objects up to `seq`) when the consumer takes the entry.
 */
export interface Entry<T> {
  readonly item: Item<T> | undefined;
  readonly hook: (() => void) | undefined;
  /** The position after this entry; `undefined`: unchanged. */
  readonly position: Position | undefined;
  /** The known-objects journal up to here. */
  readonly seq: number;
}

/** What a watcher keeps across its streams (it owns it; one stream at a time uses it). */
export interface Memory {
  /** Committed: what the consumer has taken. */
  position: Position;
  known: KnownObjects;
  readonly pacer: Pacer;
  watchListUnsupported: boolean;
  /** Sharded: whether the last LIST was filtered by the server (it echoed `shardInfo`) or only here. */
  shardFiltering?: 'server' | 'client' | undefined;
  readonly counters: { connects: number; reconnects: number; relists: number; lastEventAt: number | undefined };
  lastError: KwatchError | undefined;
}

/** How a sync's LIST is paced: carried from an attempt to the next within one sync. */
interface ListPace {
  /**
   * A page (or the WatchList's initial events) of this sync brought no progress: from then on, until the
   * sync ends, no page is free.
   */
  readonly stalled: boolean;
  /** List in one request without `limit` (after a stall: the server's pagination cannot be trusted). */
  readonly unpaginated: boolean;
}

const FRESH: ListPace = { stalled: false, unpaginated: false };

interface Sync extends ListPace {
  readonly point: SyncPoint;
  /** The committed resourceVersion while the sync runs (kept until it ends). */
  readonly fromRv: string | undefined;
  /** The position of every entry of the sync until its end (one object, shared). */
  readonly position: Position;
  /** Get the state by paginated LIST (WatchList refused, or a WatchList attempt failed). */
  readonly viaList: boolean;
  stalled: boolean;
  objects: number;
  /** The continue tokens this attempt was given: a page must not repeat one. */
  readonly tokens: Set<string>;
}

/**
 * The watcher's states; {@link Machine.step} is the one transition function:
 *
 *   start ─▶ list ⟲ ─▶ connect ─▶ watch ⟲ ─▶ connect …            (sync by LIST)
 *   start ─▶ connect(WatchList) ─▶ watch(initial events, bookmark) ─▶ watch …
 *   start ─▶ connect(after the committed resourceVersion) ─▶ watch …
 *   a LIST page without progress ─▶ backoff ─▶ list (again from the start, unpaginated)
 *   any failure ─▶ backoff ─▶ the same request again | a sync (410, managed) | fatal ─▶ throw
 *   sharded: the shard changes ─▶ a sync of its new ranges; it owns no range ─▶ idle ─▶ (it changes) a sync
 */
export type State =
  | { readonly kind: 'start' }
  | { readonly kind: 'list'; readonly sync: Sync; readonly continueToken: string | undefined; readonly free: boolean }
  | { readonly kind: 'connect'; readonly rv: string | undefined; readonly sync: Sync | undefined }
  | {
      readonly kind: 'watch';
      readonly body: StreamBody;
      readonly iterator: AsyncIterator<Uint8Array>;
      readonly splitter: LineSplitter;
      /** The inactivity timeout of this request's reads. */
      readonly idle: InactivityTimer;
      readonly openedAt: number;
      rv: string | undefined;
      sync: Sync | undefined;
      /** Events and bookmarks received on this request. */
      got: number;
    }
  | { readonly kind: 'backoff'; readonly delayMs: number; readonly next: State }
  /** Sharded, owning no range: no request until the shard changes. */
  | { readonly kind: 'idle'; readonly rv: string | undefined }
  | { readonly kind: 'fatal'; readonly error: KwatchError }
  | { readonly kind: 'done' };

/** Everything one stream's machine needs. */
export interface MachineConfig<T> {
  readonly target: WatchTarget<T>;
  readonly transport: WatchTransport;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly options: ResolvedWatcherOptions;
  readonly stream: ResolvedStreamOptions;
  /** Turns a raw object into the event object (sets its prototype; validates with a schema). */
  readonly decode: (raw: Record<string, unknown>) => T;
  /** Only objects whose uid hash is in this shard's ranges (at each instant); none: all objects. */
  readonly shard?: Shard | undefined;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';
/**
 * The error of a LIST page or WatchList initial event that brought no progress (a repeated continue token, a
 * page without a new object, an object streamed twice): a retryable TransportError, like EARLY_CLOSE — the
 * server answered, with nothing to go on (code NO_PROGRESS).
 */
function noProgress(message: string): TransportError {
  return new TransportError('NO_PROGRESS', message);
}
const unchanged = undefined;

function safely<A>(fn: ((a: A) => void) | undefined, arg: A): (() => void) | undefined {
  if (!fn) return undefined;
  return () => {
    try {
      fn(arg);
    } catch {
      /* a hook must not break the stream */
    }
  };
}

/** The watcher of one stream as a state machine over the watcher's {@link Memory}. */
export class Machine<T> {
  readonly #c: MachineConfig<T>;
  readonly #m: Memory;
  readonly #path: string;
  /** The shard's ranges changed since the current request began: list (or watch) them anew. */
  #resharded = false;
  /** Wakes an `idle` step. */
  #wake: (() => void) | undefined;

  constructor(config: MachineConfig<T>, memory: Memory) {
    this.#c = config;
    this.#m = memory;
    this.#path = collectionPath(config.target.info, config.target.namespace);
  }

  /**
   * The shard's ranges changed: what was lost is no longer delivered from now on (the filter reads the ranges at
   * each object), and the current request is ended so that the next step syncs the new ranges.
   */
  reshard(state: State): void {
    this.#resharded = true;
    if (state.kind === 'watch') state.body.close(new KwatchError('RESHARDED', 'The shard changed'));
    this.#wake?.();
  }

  /** Nothing to list or watch (the shard owns no range): ends a sync in progress as empty, then waits. */
  #idle(state: Extract<State, { kind: 'list' | 'connect' }>): [Entry<T>[], State] {
    const entries: Entry<T>[] = [];
    const { sync } = state;
    if (sync) this.#finishSync(entries, sync, sync.fromRv, 'list');
    return [entries, { kind: 'idle', rv: sync ? sync.fromRv : state.kind === 'connect' ? state.rv : undefined }];
  }

  /** Whether an object belongs to this stream's shard now (always, unsharded). */
  #mine(meta: ObjectMeta | undefined): boolean {
    const { shard } = this.#c;
    return shard === undefined || inRanges(meta?.uid, shard.ranges());
  }

  /** The shardSelector of the shard's current ranges, for a request's query. */
  #selector(q: URLSearchParams): URLSearchParams {
    const selector = this.#c.shard && shardSelector(this.#c.shard.ranges());
    if (selector) q.set('shardSelector', selector);
    return q;
  }

  /** Moves from `state` to the next, with the entries produced on the way. Throws only in `fatal`. */
  async step(state: State): Promise<[Entry<T>[], State]> {
    if (this.#c.signal.aborted && state.kind !== 'done') return [[], this.#stopped(state)];
    if (this.#resharded) {
      this.#resharded = false;
      if (state.kind !== 'start' && state.kind !== 'done' && state.kind !== 'fatal') return this.#reshardFrom(state);
    }
    if ((state.kind === 'list' || state.kind === 'connect') && this.#c.shard?.ranges().length === 0) return this.#idle(state);
    switch (state.kind) {
      case 'start':
        return this.#begin();
      case 'list':
        return this.#guard(state, () => this.#listPage(state));
      case 'connect':
        return this.#guard(state, () => this.#connect(state));
      case 'watch':
        return this.#guard(state, () => this.#read(state));
      case 'backoff': {
        const slept = await sleep(state.delayMs, this.#c.signal, this.#c.clock);
        return [[], slept ? state.next : this.#stopped(state)];
      }
      case 'idle': {
        const signal = this.#c.signal;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener('abort', done);
            this.#wake = undefined;
            resolve();
          };
          if (signal.aborted || this.#resharded) return done();
          this.#wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
        return [[], this.#c.signal.aborted ? this.#stopped(state) : state];
      }
      case 'fatal':
        throw state.error;
      case 'done':
        return [[], state];
    }
  }

  /** Frees what a state holds (an open response). Safe on any state, more than once. */
  release(state: State): void {
    if (state.kind === 'watch') {
      state.idle.stop();
      state.body.close();
    }
  }

  #stopped(state: State): State {
    this.release(state);
    return { kind: 'done' };
  }

  #entry(item: Item<T> | undefined, hook?: (() => void) | undefined, position?: Position, seq?: number): Entry<T> {
    return { item, hook, position, seq: seq ?? this.#m.known.seq };
  }

  #begin(): [Entry<T>[], State] {
    const { position } = this.#m;
    if (!this.#c.stream.manage) {
      // Unmanaged: the watcher's resourceVersion as given or set ('0' included), repeated on every request.
      const rv = position.sync ? position.sync.notOlderThan : position.resourceVersion;
      return [[], { kind: 'connect', rv, sync: undefined }];
    }
    if (position.sync) {
      const sync = this.#startSync(position.sync, position.resourceVersion, false);
      const resumed =
        position.sync.reason && this.#c.stream.markers ? [this.#entry({ type: 'RESYNC', reason: position.sync.reason })] : [];
      return [resumed, sync];
    }
    return [[], { kind: 'connect', rv: position.resourceVersion, sync: undefined }];
  }

  /** Begins an attempt at a sync; `pace` carries a stall from an earlier attempt of the same sync. */
  #startSync(point: SyncPoint, fromRv: string | undefined, viaList: boolean, pace: ListPace = FRESH): State {
    this.#m.known.beginRelist();
    const { watchList } = this.#c.options;
    const byList = viaList || watchList === false || (watchList === 'auto' && this.#m.watchListUnsupported);
    const sync: Sync = {
      point,
      fromRv,
      position: { resourceVersion: fromRv, sync: point },
      viaList: byList,
      stalled: pace.stalled,
      unpaginated: pace.unpaginated,
      objects: 0,
      tokens: new Set(),
    };
    return byList ? { kind: 'list', sync, continueToken: undefined, free: false } : { kind: 'connect', rv: fromRv, sync };
  }

  async #guard(state: State, run: () => Promise<[Entry<T>[], State]>): Promise<[Entry<T>[], State]> {
    try {
      return await run();
    } catch (err) {
      return this.#fail(err, state, []);
    }
  }

  /**
   * One LIST page. A page must bring progress: at least one object this list has not listed yet, and a
   * continue token (if any) it was not given before. One that does not is a failure, after which the list
   * starts over as one unpaginated request. A page that brought a full `pageSize` of new objects earns the
   * next page free of the request budget (an honest paginated list: every page but the last is full); any
   * other page draws a token, and after a stall none is free until the sync ends.
   */
  async #listPage(state: Extract<State, { kind: 'list' }>): Promise<[Entry<T>[], State]> {
    const { sync } = state;
    if (!(await this.#m.pacer.admit(this.#c.signal, state.free))) return [[], this.#stopped(state)];
    const q = this.#selector(
      listQuery(this.#c.options, {
        continueToken: state.continueToken,
        notOlderThan: sync.point.notOlderThan,
        unpaginated: sync.unpaginated,
      }),
    );
    const page = (await this.#c.transport.getJson(this.#path, q, this.#c.signal, acceptFor(this.#c.options, 'list'))) as {
      metadata?: { resourceVersion?: string; continue?: string; shardInfo?: unknown };
      items?: Record<string, unknown>[];
    };
    if (this.#c.shard) this.#m.shardFiltering = page.metadata?.shardInfo === undefined ? 'client' : 'server';
    const entries: Entry<T>[] = [];
    const { info } = this.#c.target;
    const items = page.items ?? [];
    const listedBefore = this.#m.known.listedKeys; // the known objects' relist counts distinct keys
    let others = 0; // objects of other shards (a server that does not honour shardSelector sends them)
    for (const raw of items) {
      const meta = raw.metadata as ObjectMeta | undefined;
      if (!this.#mine(meta)) {
        others += 1;
        continue;
      }
      // List items come without apiVersion and kind; make them look like watched objects.
      raw.apiVersion ??= info.apiVersion;
      raw.kind ??= info.kind;
      sync.objects += 1;
      this.#pushDiffs(entries, this.#m.known.listed(raw, meta), sync);
    }
    const token = page.metadata?.continue;
    if (token) {
      const added = this.#m.known.listedKeys - listedBefore + others;
      const repeated = sync.tokens.has(token);
      sync.tokens.add(token);
      if (repeated || added === 0) return this.#stalled(state, entries, repeated);
      const free = !sync.stalled && added >= this.#c.options.pageSize;
      return [entries, { kind: 'list', sync, continueToken: token, free }];
    }
    const rv = page.metadata?.resourceVersion;
    this.#finishSync(entries, sync, rv, 'list');
    return [entries, { kind: 'connect', rv: rv ?? sync.fromRv, sync: undefined }];
  }

  /**
   * A LIST page without progress: a failure (counted, reported, backed off), after which the list starts over
   * from its first page in one request without `limit` — the server's pagination cannot be trusted, and an
   * unpaginated LIST at the sync's resourceVersion is what client-go's reflector sends for a relist (served
   * from the watch cache). The entries of the page are still delivered; the new attempt's diff corrects them.
   */
  #stalled(state: Extract<State, { kind: 'list' }>, entries: Entry<T>[], repeated: boolean): [Entry<T>[], State] {
    const { sync } = state;
    const what = repeated ? 'repeated the continue token of an earlier page' : 'brought no object not listed before';
    const error = noProgress(`A LIST page of ${this.#path} ${what}; listing again from the start, without pagination`);
    const again = this.#startSync(sync.point, sync.fromRv, true, { stalled: true, unpaginated: true });
    return this.#fail(error, state, entries, again);
  }

  #pushDiffs(entries: Entry<T>[], diffs: Diff[], sync: Sync): void {
    for (const d of diffs) {
      const item: Item<T> =
        d.type === 'DELETED'
          ? tombstoneEvent(tombstoneOf<T>(this.#c.target.info, d.key, d.known))
          : (new EventClass(d.type, this.#c.decode(d.object as Record<string, unknown>), true) as WatchEvent<T>);
      entries.push(this.#entry(item, undefined, sync.position, d.seq));
    }
  }

  #finishSync(entries: Entry<T>[], sync: Sync, rv: string | undefined, via: 'list' | 'watch-list'): void {
    this.#pushDiffs(entries, this.#m.known.endRelist(), sync);
    const resourceVersion = rv ?? sync.fromRv;
    const { initial } = sync.point;
    if (!initial) this.#m.counters.relists += 1;
    const marker: Item<T> | undefined = this.#c.stream.markers ? { type: 'SYNCED', initial, resourceVersion } : undefined;
    const hook = safely(this.#c.options.hooks.relisted, { initial, objects: sync.objects, resourceVersion, via });
    entries.push(this.#entry(marker, hook, { resourceVersion, sync: undefined }));
  }

  async #connect(state: Extract<State, { kind: 'connect' }>): Promise<[Entry<T>[], State]> {
    if (!(await this.#m.pacer.admit(this.#c.signal))) return [[], this.#stopped(state)];
    const { sync } = state;
    const q = this.#selector(
      sync
        ? watchQuery(this.#c.options, { resourceVersion: sync.point.notOlderThan, initialEvents: true })
        : watchQuery(this.#c.options, { resourceVersion: state.rv }),
    );
    // The watch's age counts from the request, as client-go's does: header latency is part of it.
    const openedAt = this.#c.clock.now();
    const body = await this.#c.transport.openStream(this.#path, q, this.#c.signal, acceptFor(this.#c.options, 'watch'));
    const counters = this.#m.counters;
    if (counters.connects++ > 0) counters.reconnects += 1;
    const hook = safely(this.#c.options.hooks.connected, {
      resourceVersion: sync ? sync.point.notOlderThan : state.rv,
      reconnects: counters.reconnects,
    });
    const next: State = {
      kind: 'watch',
      body,
      iterator: body[Symbol.asyncIterator](),
      splitter: new LineSplitter(this.#c.options.maxLineBytes),
      idle: this.#idleTimer(body),
      openedAt,
      rv: state.rv,
      sync,
      got: 0,
    };
    return [hook ? [this.#entry(undefined, hook)] : [], next];
  }

  async #read(state: Extract<State, { kind: 'watch' }>): Promise<[Entry<T>[], State]> {
    let next: IteratorResult<Uint8Array>;
    state.idle.wait();
    try {
      next = await state.iterator.next();
    } finally {
      state.idle.arrived();
    }
    if (next.done) {
      state.splitter.end(); // throws if the stream ended mid-line
      this.release(state);
      return this.#ended(state);
    }
    const entries: Entry<T>[] = [];
    const before = state.got;
    try {
      for (const line of state.splitter.push(next.value)) this.#handleLine(line, state, entries);
    } catch (err) {
      // Deliver what decoded before the failure, then handle it.
      this.#stamp(state, before);
      return this.#fail(err, state, entries);
    }
    this.#stamp(state, before);
    return [entries, state];
  }

  /** The server ended a watch cleanly (its timeoutSeconds, or a misbehaving server or proxy). */
  #ended(state: Extract<State, { kind: 'watch' }>): [Entry<T>[], State] {
    if (this.#c.stream.quitOnTimeout) return [[], { kind: 'done' }];
    if (state.sync) {
      throw new TransportError('NETWORK_ERROR', 'The watch ended before the initial events were complete');
    }
    if (state.got === 0 && this.#c.clock.now() - state.openedAt < PACING.minWatchMs) {
      throw new TransportError(
        'EARLY_CLOSE',
        `The watch ended within ${PACING.minWatchMs} ms without an event (the server or a proxy closes watches at once)`,
      );
    }
    return [[], { kind: 'connect', rv: state.rv, sync: undefined }];
  }

  /** The clock is read once per chunk that held an event or bookmark, not per event. */
  #stamp(state: Extract<State, { kind: 'watch' }>, before: number): void {
    if (state.got !== before) this.#m.counters.lastEventAt = this.#c.clock.now();
  }

  /** A response's inactivity timeout: it closes the response as STALLED after a read has waited that long. */
  #idleTimer(body: StreamBody): InactivityTimer {
    const ms = this.#c.options.inactivityTimeoutMs;
    return new InactivityTimer(this.#c.clock, ms, () =>
      body.close(new TransportError('STALLED', `No data from the API server for ${ms} ms; reconnecting`)),
    );
  }

  #handleLine(line: string, state: Extract<State, { kind: 'watch' }>, entries: Entry<T>[]): void {
    const { type, object } = parseWatchLine(line);
    const meta = object.metadata as ObjectMeta | undefined;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        state.got += 1;
        if (!this.#mine(meta)) {
          // Another shard's object (sent by a server that ignores shardSelector): it only moves the position.
          if (state.sync) return;
          this.#m.pacer.progress();
          if (this.#c.stream.manage && meta?.resourceVersion !== undefined) {
            state.rv = meta.resourceVersion;
            entries.push(this.#entry(undefined, undefined, { resourceVersion: state.rv, sync: undefined }));
          }
          return;
        }
        if (state.sync && type === 'ADDED') {
          const { sync } = state;
          const key = keyOf(meta);
          if (this.#m.known.hasListed(key)) {
            // Each object comes once in the initial events: a repeat is a server going round in circles.
            sync.stalled = true;
            throw noProgress(`The initial events of ${this.#path} repeated an object; listing instead`);
          }
          sync.objects += 1;
          this.#pushDiffs(entries, this.#m.known.listed(object, meta, key), sync);
          return;
        }
        this.#m.pacer.progress();
        const event = new EventClass(type, this.#c.decode(object)) as WatchEvent<T>;
        if (!this.#c.stream.manage) {
          // Unmanaged: every reconnect repeats the same request (Hikaru's semantics).
          entries.push(this.#entry(event));
          return;
        }
        const rv = meta?.resourceVersion ?? state.rv;
        state.rv = rv;
        this.#m.known.observe(type, meta);
        entries.push(this.#entry(event, undefined, { resourceVersion: rv, sync: undefined }));
        return;
      }
      case 'BOOKMARK': {
        state.got += 1;
        const rv = meta?.resourceVersion;
        const hook = rv ? safely(this.#c.options.hooks.bookmark, { resourceVersion: rv }) : undefined;
        if (state.sync) {
          if (meta?.annotations?.[INITIAL_EVENTS_END] === 'true') {
            const sync = state.sync;
            state.sync = undefined;
            state.rv = rv ?? sync.fromRv;
            this.#finishSync(entries, sync, rv, 'watch-list');
          }
          return;
        }
        this.#m.pacer.progress();
        const moves = this.#c.stream.manage && rv !== undefined;
        if (moves) state.rv = rv;
        if (hook || moves)
          entries.push(this.#entry(undefined, hook, moves ? { resourceVersion: rv, sync: undefined } : unchanged));
        return;
      }
      case 'ERROR': {
        const status = isStatus(object) ? object : undefined;
        throw apiErrorFrom(status?.code ?? 500, status, `watch ${this.#path}`);
      }
      default:
        throw new DecodeError('DECODE_ERROR', `Unknown watch event type ${JSON.stringify(type.slice(0, 40))}`);
    }
  }

  /**
   * Decides what a failure leads to; `entries` are those produced before it, in order. `retry`: what a
   * retryable failure leads to after its backoff (default: the same request again).
   */
  #fail(err: unknown, state: State, entries: Entry<T>[], retry?: State): [Entry<T>[], State] {
    this.release(state);
    if (this.#c.signal.aborted) return [entries, this.#stopped(state)];
    if (this.#resharded) {
      // Ended by reshard() (or failed just as the shard changed): no failure, the new ranges are synced now.
      this.#resharded = false;
      const [more, next] = this.#reshardFrom(state);
      return [[...entries, ...more], next];
    }
    const error = asKwatchError(err);
    this.#m.lastError = error;
    const hooks = this.#c.options.hooks;
    const report = (hook: (() => void) | undefined, position?: Position): void => {
      if (hook || position) entries.push(this.#entry(undefined, hook, position));
    };
    report(safely(hooks.error, error));
    const sync = state.kind === 'list' || state.kind === 'connect' || state.kind === 'watch' ? state.sync : undefined;
    const rv = state.kind === 'connect' || state.kind === 'watch' ? state.rv : undefined;

    if (error.code === 'GONE' && this.#c.stream.manage) {
      if (sync?.point.notOlderThan !== undefined) {
        // The sync at our last resourceVersion was refused too: a consistent read (as client-go does), paced.
        const point = { ...sync.point, notOlderThan: undefined };
        report(undefined, { resourceVersion: sync.fromRv, sync: point });
        return [entries, this.#startSync(point, sync.fromRv, true, sync)];
      }
      const point: SyncPoint = sync?.point ?? { initial: false, notOlderThan: rv, reason: error };
      if (!sync && this.#c.stream.markers)
        entries.push(this.#entry({ type: 'RESYNC', reason: error }, undefined, { resourceVersion: rv, sync: point }));
      else report(undefined, { resourceVersion: sync?.fromRv ?? rv, sync: point });
      return this.#retryAfter(error, entries, this.#startSync(point, sync?.fromRv ?? rv, sync !== undefined, sync));
    }
    if (sync && state.kind === 'connect' && (error.code === 'HTTP_ERROR' || error.code === 'NOT_FOUND')) {
      // The server does not take WatchList requests (400/422): list instead, from now on.
      if (this.#c.options.watchList === 'auto') {
        this.#m.watchListUnsupported = true;
        return [entries, this.#startSync(sync.point, sync.fromRv, true, sync)];
      }
    }
    // 401: the client has already asked for credentials again where they can change (exec plugin, token
    // file, a client-node KubeConfig) and retried once; one place decides that, so UNAUTHORIZED is final here.
    if (!error.retryable) return [entries, { kind: 'fatal', error }];
    return this.#retryAfter(error, entries, retry ?? this.#retryOf(state));
  }

  /**
   * The shard changed during `state`: sync the new ranges. A sync in progress starts over (its diff against what was
   * delivered drops what was lost, as tombstones); a watch becomes a sync not older than its resourceVersion, announced
   * by `RESYNC` (reason `RESHARDED`). Unmanaged: the same watch again, with the new shardSelector.
   */
  #reshardFrom(state: State): [Entry<T>[], State] {
    this.release(state);
    if (state.kind === 'backoff') return this.#reshardFrom(state.next);
    if (state.kind !== 'list' && state.kind !== 'connect' && state.kind !== 'watch' && state.kind !== 'idle') return [[], state];
    const rv = state.kind === 'list' ? undefined : state.rv;
    if (!this.#c.stream.manage) return [[], { kind: 'connect', rv, sync: undefined }];
    const sync = state.kind === 'idle' ? undefined : state.sync;
    if (sync) return [[], this.#startSync(sync.point, sync.fromRv, false)];
    const reason = new KwatchError('RESHARDED', `The shard of ${this.#path} changed; syncing its new ranges`);
    const point: SyncPoint = { initial: false, notOlderThan: rv, reason };
    const position: Position = { resourceVersion: rv, sync: point };
    const entries = [this.#entry(this.#c.stream.markers ? { type: 'RESYNC', reason } : undefined, undefined, position)];
    return [entries, this.#startSync(point, rv, false)];
  }

  /** A failure counted by the pacer: back off (or give up past maxConsecutiveErrors), then `next`. */
  #retryAfter(error: KwatchError, entries: Entry<T>[], next: State): [Entry<T>[], State] {
    const pacer = this.#m.pacer;
    const delayMs = pacer.failure((error as { retryAfterMs?: number }).retryAfterMs);
    if (pacer.consecutiveFailures > this.#c.options.maxConsecutiveErrors) return [entries, { kind: 'fatal', error }];
    const hook = safely(this.#c.options.hooks.reconnecting, {
      error,
      delayMs,
      consecutiveErrors: pacer.consecutiveFailures,
    });
    if (hook) entries.push(this.#entry(undefined, hook));
    return [entries, { kind: 'backoff', delayMs, next }];
  }

  /** The state that tries again what `state` was doing. */
  #retryOf(state: State): State {
    if (state.kind === 'list') return { kind: 'list', sync: state.sync, continueToken: state.continueToken, free: false };
    if (state.kind === 'connect' || state.kind === 'watch') {
      // An interrupted sync starts over by LIST (a WatchList cut by the server's timeout would be cut
      // again at the same place); the diff against what was delivered keeps it exact.
      const { sync } = state;
      return sync ? this.#startSync(sync.point, sync.fromRv, true, sync) : { kind: 'connect', rv: state.rv, sync: undefined };
    }
    return state;
  }
}
