// Watcher: one watch of one kind as an async iterable of typed events, resuming after what was taken.
import {
  adoptObject,
  type CheckWatchable,
  type KubernetesKind,
  modelAdopterFor,
  type WatchedObject,
  type WatchTarget,
  watchTarget,
} from '@kwatch/models';
import type { WatchTransport } from '../client/index.ts';
import { KubeClient } from '../client/index.ts';
import type { ObjectEvent, WatchEvent, WatchMarker } from '../internal/index.ts';
import { asPartialObjectMetadata, type Clock, inRanges, KwatchError, keyOf, LiveStream, systemClock } from '../internal/index.ts';
import { healthOf, type WatcherHealth } from './health.ts';
import { KnownObjects, type KnownView } from './knownObjects.ts';
import { type Entry, type Item, Machine, type Memory, type State } from './machine.ts';
import { WatchRecorder, watchAttributes } from './metrics.ts';
import {
  type ConnectLimiter,
  type ResolvedWatcherOptions,
  resolveStreamOptions,
  resolveWatcherOptions,
  type StreamOptions,
  type WatcherOptions,
} from './options.ts';
import { Pacer } from './pacer.ts';
import { Resumer } from './resume.ts';

/** What the take-time shard filter reads of an object. */
type Meta = { uid?: string; name?: string; namespace?: string };

/** Runs the transport's requests through the limiter, when there is one. */
function limited(transport: WatchTransport, limiter: ConnectLimiter | undefined): WatchTransport {
  if (!limiter) return transport;
  return {
    getJson: (path, query, signal, accept) => limiter(() => transport.getJson(path, query, signal, accept), signal),
    openStream: (path, query, signal, accept) => limiter(() => transport.openStream(path, query, signal, accept), signal),
  };
}

/** Resolves when `start`'s callback is called or `signal` aborts, whichever comes first; leaves no listener. */
function untilAborted(signal: AbortSignal, start: (resolve: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    start(done);
  });
}

/**
 * Lets a stopped stream finish before a new one starts (a `break` then `stream()`, a multiplexer's
 * restart, a delete and re-add). The stopped stream may be suspended at a yield nobody resumes:
 * finishing it runs its `finally`, which forgets what it received and never delivered. If it is
 * mid-step, this waits for that step, which the abort ends at once; if it is itself waiting for an
 * earlier one, this waits for that too — never for less, even when the new stream is stopped
 * meanwhile, so that no two streams of a watcher ever overlap (an earlier one's rollback would undo
 * the later one's changes).
 */
async function finish(previous: Active): Promise<void> {
  await previous.batches.return(undefined).catch(() => {});
}

/**
 * One stream of a watcher, as the multiplexer drives it (internal): batches of entries, and
 * `take` to commit an entry when its consumer takes it.
 */
export interface Session<T> {
  readonly batches: AsyncGenerator<Entry<T>[], void, undefined>;
  /** Commits `entry` (the consumer took it), calls its hook, and returns its item; `undefined` once stopped. */
  take(entry: Entry<T>): Item<T> | undefined;
  readonly signal: AbortSignal;
  /** Ends the stream (before or after it started). */
  stop(): void;
}

/**
 * Makes a watcher record what its consumer holds in `view` instead of its own map (internal: a shared watch passes
 * its Store, so each object has one record). Only before the watcher's first stream.
 */
export const useKnownView: unique symbol = Symbol('kwatch.useKnownView');

/** Opens a {@link Session} (internal: used by the multiplexer). */
export const openSession: unique symbol = Symbol('kwatch.openSession');

interface Active {
  readonly controller: AbortController;
  /** The running stream's batches, to finish it when a new stream takes over after a stop. */
  readonly batches: AsyncGenerator<unknown, void, undefined>;
  state: State;
}

/**
 * Watches one kind, in one namespace or all, as an async iterable of typed events —
 * Hikaru's `Watcher`, without its ways of losing events.
 *
 * The kind is checked at compile time and again at run time: `new Watcher(Node, { namespace: 'a' })`
 * does not compile, and throws "Node has no namespaced watcher support" from JavaScript.
 *
 * By default a stream delivers every existing object once (ADDED), then every change,
 * forever, never twice: it resumes from the last resourceVersion after a reconnect and
 * relists after 410 Gone, delivering what changed in the gap. What a new stream resumes from is
 * what the consumer has taken: events that arrived but were not taken (after a `break` or
 * `stop()`) come again on the next stream.
 *
 * @example
 * ```ts
 * import { Pod } from '@kwatch/models/v1';
 * const watcher = new Watcher(Pod, { namespace: 'web' });
 * for await (const we of watcher.stream()) console.log(we.type, we.object.metadata?.name);
 * ```
 */
export class Watcher<K extends KubernetesKind, T = WatchedObject<K>> {
  /** The checked target: resource, namespace (undefined for all). */
  readonly target: WatchTarget<T>;
  readonly #options: WatcherOptions<K>;
  readonly #resolved: ResolvedWatcherOptions;
  readonly #clock: Clock;
  readonly #memory: Memory;
  #transport: WatchTransport | undefined;
  #active: Active | undefined;
  #ended: 'idle' | 'stopped' | 'failed' = 'idle';
  readonly #recorder: WatchRecorder | undefined;

  /**
   * `internal.pacer`: the request budget to draw from instead of a new one — the informer layer passes one per watch
   * identity, so that a shared watch re-created after a failure keeps its budget. Not part of the public constructor.
   */
  constructor(kind: K & CheckWatchable<K>, options: WatcherOptions<K> = {}, internal: { pacer?: Pacer } = {}) {
    const resolved = resolveWatcherOptions(options as WatcherOptions<unknown>);
    this.target = watchTarget(kind, { namespace: options.namespace }) as unknown as WatchTarget<T>;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const { metrics } = options;
    if (metrics) {
      const attributes = watchAttributes(metrics, this.target.info.kind, this.target.namespace);
      const recorder = new WatchRecorder(metrics, attributes, () => this.#clock.now());
      this.#recorder = recorder;
      this.#resolved = { ...resolved, hooks: recorder.hooks(resolved.hooks) };
    } else this.#resolved = resolved;
    const rv = options.resourceVersion;
    this.#memory = {
      position:
        rv === undefined || rv === '0'
          ? { resourceVersion: undefined, sync: { initial: true, notOlderThan: rv, reason: undefined } }
          : { resourceVersion: rv, sync: undefined },
      known: new KnownObjects(),
      pacer: internal.pacer ?? new Pacer(this.#clock, options.backoff),
      watchListUnsupported: false,
      counters: { connects: 0, reconnects: 0, relists: 0, lastEventAt: undefined },
      lastError: undefined,
    };
  }

  /** The kind this watcher watches (the value given to the constructor). */
  get kind(): K {
    return this.target.kind as K;
  }

  /** The namespace watched, or `undefined` for all namespaces. */
  get namespace(): string | undefined {
    return this.target.namespace;
  }

  /**
   * The resourceVersion a managed stream resumes after: that of the last change or bookmark
   * the consumer has taken (or the one given, or set with {@link updateResourceVersion}).
   * `undefined` until the initial state has been taken completely.
   *
   * @example
   * ```ts
   * saveSomewhere(watcher.currentResourceVersion());
   * ```
   */
  currentResourceVersion(): string | undefined {
    const { position } = this.#memory;
    return position.sync ? undefined : position.resourceVersion;
  }

  /**
   * Sets the resourceVersion the next stream starts after, as Hikaru's `update_resource_version`:
   * managed streams resume after it, unmanaged ones repeat it on every request. Objects known
   * from before are still compared on a resync. Takes effect on the next stream.
   *
   * @example
   * ```ts
   * watcher.updateResourceVersion(savedVersion);
   * for await (const we of watcher.stream()) handle(we);
   * ```
   */
  updateResourceVersion(resourceVersion: string): void {
    if (typeof resourceVersion !== 'string' || resourceVersion === '') {
      throw new KwatchError(
        'INVALID_OPTION',
        `Expected \`resourceVersion\` to be a non-empty string, got ${String(resourceVersion)}`,
      );
    }
    this.#memory.position = { resourceVersion, sync: undefined };
  }

  /**
   * A snapshot of where the watcher stands; cheap, safe to poll.
   *
   * @example
   * ```ts
   * const h = watcher.health(); if (h.consecutiveErrors > 5) console.warn(h.lastError?.code);
   * ```
   */
  health(): WatcherHealth {
    const active = this.#active;
    return healthOf(active && !active.controller.signal.aborted ? active.state : this.#ended, this.#memory);
  }

  /**
   * True while a stream of this watcher runs (pulled at least once, not ended or stopped), as
   * Hikaru's `is_running()`.
   *
   * @example
   * ```ts
   * if (!watcher.isRunning()) void consume(watcher.stream());
   * ```
   */
  isRunning(): boolean {
    return this.#active !== undefined && !this.#active.controller.signal.aborted;
  }

  /**
   * Ends the running stream promptly — during a connect, a list, a read or a backoff —
   * closing its connection. Called inside `for await`, the loop sees no further event. The
   * watcher keeps its position and can stream again. A stream not pulled yet has not started,
   * so there is nothing to stop (as in Hikaru); use a `signal` to cancel one before it starts.
   *
   * @example
   * ```ts
   * for await (const we of watcher.stream()) if (we.object.metadata?.name === 'last') watcher.stop();
   * ```
   */
  stop(): void {
    this.#active?.controller.abort(new KwatchError('ABORTED', 'The watcher was stopped'));
  }

  /**
   * The events, as an async iterable. Nothing happens until the first pull. Breaking out
   * of `for await`, `stop()` or an aborted signal ends it and frees everything; the next
   * stream resumes after the last event taken. Non-retryable failures (403, 404, a bad
   * option, 410 when unmanaged) reject the iteration with a typed error; retryable ones are
   * retried at the pace of {@link PACING} and reported through hooks and `health()`.
   *
   * @example
   * ```ts
   * for await (const e of watcher.stream({ markers: true })) {
   *   if (e.type === 'SYNCED') console.log('initial state complete');
   *   else if (e.type !== 'RESYNC') console.log(e.type, e.object.metadata?.name);
   * }
   * ```
   */
  stream(
    options: StreamOptions & { manageResourceVersion: false; markers: true },
  ): AsyncGenerator<ObjectEvent<T> | WatchMarker, void, undefined>;
  /** Unmanaged streams never resync, so they carry no tombstones. */
  stream(options: StreamOptions & { manageResourceVersion: false }): AsyncGenerator<ObjectEvent<T>, void, undefined>;
  stream(options: StreamOptions & { markers: true }): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined>;
  stream(options?: StreamOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  stream(options: StreamOptions = {}): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined> {
    resolveStreamOptions(options);
    const { resume, signal, ...rest } = options;
    const resumer = resume ? new Resumer(this, resume, this.#clock, options) : undefined;
    let session: Session<T> | undefined;
    const self = this;
    return new LiveStream<Item<T>, Entry<T>>({
      batches: true,
      signal,
      start(live) {
        if (!resumer) {
          // The session's batches themselves: no generator in between on the hot path.
          session = self[openSession]({ ...rest, signal: live });
          return session.batches;
        }
        return (async function* () {
          if (!(await resumer.load(live))) return; // the consumer left while the store was loading
          session = self[openSession]({ ...rest, signal: live });
          try {
            yield* session.batches;
          } finally {
            await resumer.finish();
          }
        })();
      },
      // Taken (committed) when handed out: an entry produced after the consumer left is never taken.
      take(entry) {
        resumer?.beforeTake();
        const item = session?.take(entry);
        resumer?.afterTake();
        return item;
      },
    });
  }

  /** @internal A stream as batches of entries that its consumer commits one by one. */
  [openSession](options: StreamOptions): Session<T> {
    const stream = resolveStreamOptions(options);
    const controller = new AbortController();
    const signal = controller.signal;
    // The watcher's and the stream's signals abort the session through listeners that leave with it — not
    // AbortSignal.any, whose composite Node keeps alive with everything it reaches: a stream's worth of memory
    // per stream ended by a break (measured: +10 MB per 10k-object sync, never collected).
    const outer = [this.#options.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const onOuterAbort = (event: Event): void => controller.abort((event.target as AbortSignal).reason);
    const link = (): void => {
      for (const s of outer) {
        if (s.aborted) controller.abort(s.reason);
        else s.addEventListener('abort', onOuterAbort, { once: true });
      }
    };
    const unlink = (): void => {
      for (const s of outer) s.removeEventListener('abort', onOuterAbort);
    };
    const memory = this.#memory;
    const self = this;
    const { shard } = this.#resolved;
    let mine: Active | undefined;

    // Entries yielded and not yet taken. A stream that ends (or fails) waits until its consumer has
    // taken them, so that what it received is delivered (or rolled back) before it reports the end.
    let pending = 0;
    let drained: (() => void) | undefined;
    const untilDrained = (): Promise<void> =>
      pending === 0 || signal.aborted ? Promise.resolve() : untilAborted(signal, (resolve) => (drained = resolve));

    async function* batches(): AsyncGenerator<Entry<T>[], void, undefined> {
      link();
      if (signal.aborted) return unlink(); // stopped (or its signal aborted) before it started
      // Claimed before the first await, so that two streams pulled in the same tick cannot both start.
      let previous: Active | undefined;
      try {
        previous = self.#claim();
      } catch (err) {
        unlink();
        throw err;
      }
      const active: Active = { controller, batches: generator, state: { kind: 'start' } };
      mine = active;
      self.#active = active;
      if (previous) await finish(previous);
      if (signal.aborted) {
        if (self.#active === active) self.#active = undefined;
        return unlink();
      }
      let machine: Machine<T> | undefined;
      let failed = false;
      const { shard } = self.#resolved;
      const unsubscribe = shard?.subscribe(() => machine?.reshard(active.state));
      try {
        await shard?.start?.();
        const metadataOnly = self.#resolved.metadataOnly;
        // Metadata-only objects are plain PartialObjectMetadata: no model class (not even loaded), no schema.
        const cls = metadataOnly ? undefined : await modelAdopterFor(self.target as WatchTarget<unknown>);
        const schema = metadataOnly ? undefined : self.target.schema;
        const { kind, apiVersion } = self.target.info;
        machine = new Machine<T>(
          {
            target: self.target,
            transport: limited(self.#transportFor(), options.connectLimiter),
            clock: self.#clock,
            signal,
            options: self.#resolved,
            stream,
            decode: metadataOnly
              ? (raw) => asPartialObjectMetadata<T>(raw, kind, apiVersion)
              : (raw) => adoptObject<T>(raw, cls, schema),
            shard,
          },
          memory,
        );
        while (active.state.kind !== 'done') {
          let step: [Entry<T>[], State];
          try {
            step = await machine.step(active.state);
          } catch (err) {
            failed = true;
            await untilDrained();
            throw err;
          }
          active.state = step[1];
          if (step[0].length > 0) {
            pending += step[0].length;
            yield step[0];
          }
        }
        await untilDrained();
      } catch (err) {
        failed = true; // a kubeconfig that cannot be read, a model that cannot load
        throw err;
      } finally {
        unsubscribe?.();
        unlink();
        if (machine) machine.release(active.state);
        // What was received but never taken is forgotten: the next stream receives it again.
        memory.known.rollback();
        if (self.#active === active) {
          self.#active = undefined;
          self.#ended = failed && !signal.aborted ? 'failed' : 'stopped';
        }
        controller.abort();
      }
    }
    const generator = batches();

    return {
      batches: generator,
      signal,
      stop: () => controller.abort(new KwatchError('ABORTED', 'The stream was stopped')),
      take(entry) {
        if (signal.aborted || self.#active !== mine) return undefined;
        pending -= 1;
        if (pending === 0) drained?.();
        if (entry.position) memory.position = entry.position;
        const { item } = entry;
        // Fenced at the instant it is handed out: an object of a range this shard has just lost is not delivered
        // (it leaves by a tombstone in the sync of the new ranges), nor counted as delivered.
        const meta = item && 'object' in item && !item.tombstone ? (item.object as { metadata?: Meta }).metadata : undefined;
        const withheld = shard !== undefined && meta !== undefined && !inRanges(meta.uid, shard.ranges());
        if (withheld && stream.manage) memory.known.withhold(entry.seq, keyOf(meta));
        else memory.known.commit(entry.seq);
        entry.hook?.();
        if (withheld) return undefined;
        if (item) self.#recorder?.taken(item);
        return item;
      },
    };
  }

  /** The stream this one replaces, if it was stopped; a stream still running is an error. */
  #claim(): Active | undefined {
    const previous = this.#active;
    if (previous && !previous.controller.signal.aborted) {
      throw new KwatchError('ALREADY_STREAMING', 'This watcher is already streaming; stop() it or use another Watcher');
    }
    return previous;
  }

  #transportFor(): WatchTransport {
    if (this.#options.transport) return this.#options.transport;
    if (!this.#transport) {
      // No kubeConfig: the default kubeconfig, read on the first request (without @kubernetes/client-node).
      this.#transport = new KubeClient({ kubeConfig: this.#options.kubeConfig, http2: this.#resolved.http2 });
    }
    return this.#transport;
  }

  /** @internal See {@link useKnownView}. */
  [useKnownView](view: KnownView): void {
    if (this.#active || this.#memory.known.size > 0 || this.#memory.known.uncommitted > 0) {
      throw new KwatchError('ALREADY_STREAMING', 'A watcher that has streamed keeps its own record of objects');
    }
    this.#memory.known = new KnownObjects(view);
  }

  /** Stops the running stream on `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }
}
