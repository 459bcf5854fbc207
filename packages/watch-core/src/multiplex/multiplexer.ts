// MultiplexingWatcher: one stream of several watchers' events, with restarts and an exceptionCallback.
import { describeKind, type KubernetesKind, type WatchedObject } from '@kwatch/models';
import PQueue from 'p-queue';
import type { KindWithObjects, MetadataOnlyKind, PartialObjectMetadata } from '../internal/index.ts';
import {
  arrayRule,
  Backoff,
  type BackoffOptions,
  type Clock,
  checkOptionRule,
  customRule,
  DEFAULTS,
  EventClass,
  KwatchError,
  LiveStream,
  optionalRule,
  optionRules,
  sleep,
  strictRule,
  systemClock,
  type WatchEvent,
  type WatchEventType,
  type WatchMarker,
} from '../internal/index.ts';
import type { Entry } from '../watch/index.ts';
import {
  type ConnectLimiter,
  openSession,
  resolveStreamOptions,
  type Session,
  type StreamOptions,
  type WatcherClass as Watcher,
  WatcherOptionsShape,
} from '../watch/index.ts';

type AnyWatcher = Watcher<any, any>;

/** The kind name events of `K` carry: the object's kind (`Pod` for `PodList` too). */
type ItemKind<K> =
  WatchedObject<K> extends { kind: infer N extends string }
    ? string extends N
      ? K extends { kind: infer C extends string }
        ? C
        : string
      : N
    : K extends { kind: infer C extends string }
      ? C
      : string;

/**
 * One event of a multiplexed stream: the watcher's event plus where it came from.
 * `kind` (the object's kind, e.g. `'Pod'`) narrows `object` in TypeScript.
 *
 * @example
 * ```ts
 * for await (const e of mux.stream()) if (e.kind === 'Pod' && !e.tombstone) e.object.spec?.nodeName;
 * ```
 */
export type MultiplexedEvent<T, N extends string = string> = WatchEvent<T> & {
  /** The kind of the object, e.g. `Pod`. */
  readonly kind: N;
  /** The watcher that produced the event. */
  readonly watcher: AnyWatcher;
};

/** The runtime class of multiplexed events (`instanceof WatchEvent` holds). */
class MultiplexedEventClass<T> extends EventClass<T> {
  readonly kind: string;
  readonly watcher: AnyWatcher;

  constructor(e: WatchEvent<T>, kind: string, watcher: AnyWatcher) {
    super(e.type as WatchEventType, e.object as T, e.synthetic, e.tombstone);
    this.kind = kind;
    this.watcher = watcher;
  }
}

/** A marker of one of the multiplexed watchers (with `stream({ markers: true })`). */
export type MultiplexedMarker = WatchMarker & { readonly kind: string; readonly watcher: AnyWatcher };

/** The events of a multiplexer over kinds `Ks`: a union that narrows on `kind`. */
export type MultiplexedEventOf<Ks> = [Ks] extends [never]
  ? MultiplexedEvent<unknown>
  : Ks extends MetadataOnlyKind<infer K>
    ? MultiplexedEvent<PartialObjectMetadata, ItemKind<K>>
    : Ks extends KubernetesKind
      ? MultiplexedEvent<WatchedObject<Ks>, ItemKind<Ks>>
      : never;

/**
 * Decides whether a watcher that failed is kept (restarted after a backoff) or culled.
 * Only exactly `true` (or a promise of `true`) keeps it; a callback that throws or rejects
 * culls it. It may replace the watcher (`mux.addWatcher(other)`).
 *
 * @example
 * ```ts
 * const keepRetryable: ExceptionCallback = async (_mux, _watcher, error) => isKwatchError(error) && error.retryable;
 * ```
 */
export type ExceptionCallback = (mux: MultiplexingWatcher<never>, watcher: AnyWatcher, error: unknown) => unknown;

/** Why a watcher was culled: its own error, and the callback's when the callback threw. */
export interface Culled {
  readonly watcher: AnyWatcher;
  /** The watcher's failure. */
  readonly error: unknown;
  /** What `exceptionCallback` threw or rejected with, if it did. */
  readonly callbackError?: unknown;
}

/**
 * Options of {@link MultiplexingWatcher}. Every default is in `DEFAULTS.multiplexer` (and `DEFAULTS.backoff`).
 *
 * @example
 * ```ts
 * new MultiplexingWatcher({ watchers: [new Watcher(Pod), new Watcher(ConfigMap)], bufferSize: 64 });
 * ```
 */
export interface MultiplexingWatcherOptions<W extends readonly AnyWatcher[] = readonly AnyWatcher[]> {
  /**
   * The watchers to start with. Given here, they type the events (narrowed by `kind`) even when
   * more are added in later statements. Default: none.
   */
  readonly watchers?: W;
  /** Called when a watcher's stream fails; exactly `true` keeps it. It may be async. Default: none (a failing watcher is culled). */
  readonly exceptionCallback?: ExceptionCallback;
  /** How many watchers may connect or list at the same time (a positive integer). Default: `4`. */
  readonly connectConcurrency?: number;
  /** Entries buffered per watcher before it stops reading (backpressure; a positive integer). Default: `256`. */
  readonly bufferSize?: number;
  /**
   * Delay before a kept watcher restarts. Default: `DEFAULTS.backoff` — 800 ms doubling to 30 s, full jitter,
   * reset after 2 min without failure.
   */
  readonly restartBackoff?: BackoffOptions;
  /** Called when a watcher is culled, with the reason. Default: none (see {@link MultiplexingWatcher.culled}). */
  readonly onCulled?: (watcher: AnyWatcher, error: unknown) => void;
  /** Testing seam. Default: the system clock. */
  readonly clock?: Clock;
}

/** {@link MultiplexingWatcherOptions} with every default applied. */
interface ResolvedMultiplexingWatcherOptions {
  readonly watchers: readonly AnyWatcher[];
  readonly exceptionCallback: ExceptionCallback | undefined;
  readonly connectConcurrency: number;
  readonly bufferSize: number;
  /** `undefined`: `DEFAULTS.backoff`, which `Backoff` applies. */
  readonly restartBackoff: BackoffOptions | undefined;
  readonly onCulled: ((watcher: AnyWatcher, error: unknown) => void) | undefined;
  readonly clock: Clock;
}

const { positiveInt, function: fn } = optionRules;

const MultiplexingWatcherOptionsRule = strictRule({
  watchers: optionalRule(
    arrayRule(
      customRule((v) => typeof (v as AnyWatcher | undefined)?.[openSession] === 'function', 'a Watcher'),
      'an array of Watchers',
    ),
  ),
  exceptionCallback: optionalRule(fn),
  connectConcurrency: optionalRule(positiveInt),
  bufferSize: optionalRule(positiveInt),
  restartBackoff: WatcherOptionsShape.backoff,
  onCulled: optionalRule(fn),
  clock: WatcherOptionsShape.clock,
});

/**
 * Validates `new MultiplexingWatcher(options)`'s options and applies the defaults (`DEFAULTS.multiplexer`): an
 * unknown or bad option is a `KwatchError` `INVALID_OPTION` naming it.
 */
export function resolveMultiplexingWatcherOptions(
  options: MultiplexingWatcherOptions | undefined,
): ResolvedMultiplexingWatcherOptions {
  checkOptionRule(MultiplexingWatcherOptionsRule, options, 'the MultiplexingWatcher options');
  const o = options ?? {};
  return {
    watchers: o.watchers ?? [],
    exceptionCallback: o.exceptionCallback,
    connectConcurrency: o.connectConcurrency ?? DEFAULTS.multiplexer.connectConcurrency,
    bufferSize: o.bufferSize ?? DEFAULTS.multiplexer.bufferSize,
    restartBackoff: o.restartBackoff,
    onCulled: o.onCulled,
    clock: o.clock ?? systemClock,
  };
}

/** One stream of the multiplexer. */
interface Run {
  readonly options: StreamOptions;
  readonly controller: AbortController;
  readonly limiter: ConnectLimiter;
  /** Its generator, to finish it when a new stream takes over after a stop. */
  readonly generator: { current: AsyncGenerator<unknown, void, undefined> | undefined };
}

/** An entry of one watcher, as the merge hands it to the stream. */
interface Taken {
  readonly source: Source;
  readonly entry: Entry<unknown>;
}

interface Source {
  readonly run: Run;
  readonly key: string;
  readonly watcher: AnyWatcher;
  readonly kind: string;
  readonly queue: Array<Entry<unknown>>;
  readonly backoff: Backoff;
  session: Session<unknown> | undefined;
  stopped: boolean;
  space: (() => void) | undefined;
}

const keyOf = (w: AnyWatcher): string => `${w.target.info.apiVersion}/${w.target.info.kind}`;

/**
 * Merges one watcher per kind into one stream, as Hikaru's MultiplexingWatcher — without a
 * thread per watcher, an unbounded queue, callback spins or lost replacements.
 *
 * - One watcher per kind (Pod and PodList are one kind): adding another replaces and stops the first.
 * - Adding and deleting while streaming take effect at once. A watcher's position is committed
 *   when the multiplexer's consumer takes its event: after a `break`, `stop()` or `delWatcher`,
 *   what was buffered but not taken comes again when that watcher streams again.
 * - Fair: watchers are served round-robin, so a busy kind cannot starve a quiet one.
 * - Bounded: each watcher buffers at most `bufferSize` entries, then stops reading.
 * - At most `connectConcurrency` watchers connect or list at once (p-queue).
 * - The stream ends when no watcher is left (an empty multiplexer ends at once), on `stop()`,
 *   or on `break`; it can stream again at once.
 *
 * @example
 * ```ts
 * const mux = new MultiplexingWatcher({
 *   watchers: [new Watcher(Pod, { namespace: 'web' }), new Watcher(ConfigMap, { namespace: 'web' })],
 *   exceptionCallback: async (_m, _w, err) => isKwatchError(err) && err.retryable,
 * });
 * for await (const e of mux.stream()) {
 *   if (e.kind === 'Pod') console.log('pod', e.object.metadata?.name);
 *   else console.log('configmap', e.object.metadata?.name);
 * }
 * ```
 */
class Multiplexer<Ks extends KubernetesKind = never> {
  readonly #options: ResolvedMultiplexingWatcherOptions;
  readonly #watchers = new Map<string, AnyWatcher>();
  readonly #sources = new Map<string, Source>();
  readonly #queue: PQueue;
  readonly #clock: Clock;
  #run: Run | undefined;
  #wake: (() => void) | undefined;
  #connecting = 0;
  #maxConnecting = 0;
  /** Watchers culled so far, with the reason, newest last. */
  readonly culled: Culled[] = [];

  constructor(options?: MultiplexingWatcherOptions) {
    const o = resolveMultiplexingWatcherOptions(options);
    this.#options = o;
    this.#queue = new PQueue({ concurrency: o.connectConcurrency });
    this.#clock = o.clock;
    for (const w of o.watchers) this.addWatcher(w);
  }

  /** The watchers, one per kind. */
  watchers(): AnyWatcher[] {
    return [...this.#watchers.values()];
  }

  /** The most connects/lists that ran at the same time so far (never above `connectConcurrency`). */
  get maxConcurrentConnects(): number {
    return this.#maxConnecting;
  }

  /**
   * True while the multiplexer streams (pulled at least once, not ended or stopped), as Hikaru's `is_running()`.
   *
   * @example
   * ```ts
   * if (!mux.isRunning()) void consume(mux.stream());
   * ```
   */
  isRunning(): boolean {
    return this.#run !== undefined && !this.#run.controller.signal.aborted;
  }

  /**
   * Adds a watcher; one for the same kind is stopped and replaced. While streaming, the new
   * watcher starts at once with the stream's options. Returns the multiplexer, typed to
   * include the new kind. The same instance may come back after `delWatcher`: it resumes where
   * its consumer left it.
   *
   * @example
   * ```ts
   * mux.addWatcher(new Watcher(Secret, { namespace: 'web' }));
   * ```
   */
  addWatcher<K extends KubernetesKind, T>(watcher: Watcher<K, T>): MultiplexingWatcher<Ks | KindWithObjects<K, T>> {
    const key = keyOf(watcher);
    const previous = this.#watchers.get(key);
    if (previous && previous !== watcher) this.#removeSource(key);
    this.#watchers.set(key, watcher);
    if (this.#run && !this.#sources.has(key)) this.#startSource(key, watcher);
    return this as unknown as MultiplexingWatcher<Ks | KindWithObjects<K, T>>;
  }

  /**
   * Removes a watcher — given as the instance, or as its kind (`Pod` or `PodList` alike) — and
   * stops it. Its buffered, untaken events are dropped from this stream and come again if it is
   * added back. Returns whether one was removed.
   *
   * @example
   * ```ts
   * mux.delWatcher(PodList); // removes the Pod watcher
   * ```
   */
  delWatcher(watcherOrKind: AnyWatcher | KubernetesKind): boolean {
    const key = this.#keyFor(watcherOrKind);
    if (key === undefined) return false;
    this.#removeSource(key);
    return this.#watchers.delete(key);
  }

  #keyFor(w: AnyWatcher | KubernetesKind): string | undefined {
    for (const [key, watcher] of this.#watchers) if (watcher === w) return key;
    try {
      const info = describeKind(w as KubernetesKind);
      const key = `${info.apiVersion}/${info.kind}`;
      return this.#watchers.has(key) ? key : undefined;
    } catch {
      return undefined; // neither one of our watchers nor a kind
    }
  }

  /**
   * Stops the stream (within 100 ms) and every watcher; the multiplexer can stream again.
   * Called inside `for await`, the loop sees no further event.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => mux.stop());
   * ```
   */
  stop(): void {
    this.#run?.controller.abort(new KwatchError('ABORTED', 'The multiplexer was stopped'));
    this.#notify();
  }

  /**
   * The merged events. The options apply to every watcher, including ones added later.
   * A watcher's failure goes to `exceptionCallback`; the stream itself only fails for
   * misuse (a second concurrent stream).
   *
   * @example
   * ```ts
   * for await (const e of mux.stream({ markers: true })) if (e.type === 'SYNCED') console.log(e.kind, 'synced');
   * ```
   */
  stream(options: StreamOptions & { markers: true }): AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined>;
  stream(options?: StreamOptions): AsyncGenerator<MultiplexedEventOf<Ks>, void, undefined>;
  stream(options: StreamOptions = {}): AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined> {
    resolveStreamOptions(options);
    if (options.resume !== undefined) {
      // One saved resourceVersion cannot stand for several watchers: resume each Watcher on its own.
      throw new KwatchError('INVALID_OPTION', 'Unknown option `resume` for a multiplexer (it is a Watcher stream option)');
    }
    const generator: Run['generator'] = { current: undefined };
    const stream = new LiveStream<MultiplexedEvent<unknown> | MultiplexedMarker, Taken>({
      signal: options.signal,
      start: (live) => this.#merge(options, generator, live),
      // Committed when handed out: after a stop() or a return() nothing more is taken.
      take: ({ source, entry }) => {
        if (source.run.controller.signal.aborted) return undefined;
        const item = source.session?.take(entry);
        if (item === undefined) return undefined;
        return item instanceof EventClass
          ? (new MultiplexedEventClass(item as WatchEvent<unknown>, source.kind, source.watcher) as MultiplexedEvent<unknown>)
          : { ...(item as WatchMarker), kind: source.kind, watcher: source.watcher };
      },
    });
    generator.current = stream;
    return stream as unknown as AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined>;
  }

  /** The producer of a stream: the next entry of each watcher in turn, taken by the stream when handed out. */
  async *#merge(options: StreamOptions, generator: Run['generator'], live: AbortSignal): AsyncGenerator<Taken, void, undefined> {
    // A stream still running refuses a second; a stopped one (even if its consumer never called
    // `return()`) is finished first, as a Watcher's is. Claimed before the first await.
    const previous = this.#run;
    if (previous && !previous.controller.signal.aborted) {
      throw new KwatchError('ALREADY_STREAMING', 'This multiplexer is already streaming');
    }
    const controller = new AbortController();
    const signal = controller.signal;
    const onLeave = (): void => {
      controller.abort();
      this.#notify();
    };
    live.addEventListener('abort', onLeave, { once: true });
    const limiter: ConnectLimiter = (run, s) => this.#queue.add(() => this.#counted(run), { signal: s });
    const run: Run = { options: { ...options, signal }, controller, limiter, generator };
    this.#run = run;
    try {
      if (previous) await previous.generator.current?.return(undefined).catch(() => {});
      if (live.aborted || signal.aborted) return;
      for (const [key, watcher] of this.#watchers) if (!this.#sources.has(key)) this.#startSource(key, watcher);
      let next = 0;
      while (!signal.aborted) {
        const sources = [...this.#sources.values()];
        if (sources.length === 0) return;
        let taken: { source: Source; entry: Entry<unknown> } | undefined;
        for (let i = 0; i < sources.length && !taken; i++) {
          const source = sources[(next + i) % sources.length] as Source;
          const entry = source.queue.shift();
          if (entry) {
            taken = { source, entry };
            next = (next + i + 1) % sources.length;
            source.space?.();
          }
        }
        if (!taken) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            if (signal.aborted) resolve();
          });
          continue;
        }
        if (signal.aborted) return; // stop() inside the loop: nothing more, and nothing committed
        yield taken;
      }
    } finally {
      live.removeEventListener('abort', onLeave);
      controller.abort();
      for (const [key, source] of [...this.#sources]) if (source.run === run) this.#removeSource(key);
      if (this.#run === run) {
        this.#run = undefined;
        this.#wake = undefined;
      }
    }
  }

  async #counted<R>(run: () => Promise<R>): Promise<R> {
    this.#connecting += 1;
    this.#maxConnecting = Math.max(this.#maxConnecting, this.#connecting);
    try {
      return await run();
    } finally {
      this.#connecting -= 1;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #startSource(key: string, watcher: AnyWatcher): void {
    const run = this.#run;
    if (!run) return;
    const source: Source = {
      run,
      key,
      watcher,
      kind: watcher.target.info.kind,
      queue: [],
      backoff: new Backoff(this.#options.restartBackoff),
      session: undefined,
      stopped: false,
      space: undefined,
    };
    this.#sources.set(key, source);
    void this.#pump(source);
  }

  #removeSource(key: string): void {
    const source = this.#sources.get(key);
    if (!source) return;
    this.#sources.delete(key);
    source.stopped = true;
    source.queue.length = 0;
    source.session?.stop();
    source.space?.();
    this.#notify();
  }

  /** Feeds one watcher's entries into its queue, waiting while the queue is full. */
  async #pump(source: Source): Promise<void> {
    const { run } = source;
    const { bufferSize } = this.#options;
    while (!source.stopped) {
      const session = source.watcher[openSession]({ ...run.options, connectLimiter: run.limiter });
      source.session = session;
      try {
        for await (const batch of session.batches) {
          if (source.stopped) return;
          for (const entry of batch) source.queue.push(entry);
          this.#notify();
          while (source.queue.length >= bufferSize && !source.stopped) {
            await new Promise<void>((resolve) => {
              source.space = resolve;
            });
            source.space = undefined;
          }
        }
        // The watcher ended by itself (quitOnTimeout), its events taken: it leaves this stream, not the multiplexer.
        if (!source.stopped && this.#sources.get(source.key) === source) {
          this.#sources.delete(source.key);
          this.#notify();
        }
        return;
      } catch (failure) {
        if (source.stopped || run.controller.signal.aborted) return;
        if (!(await this.#keep(source, failure))) return;
        const slept = await sleep(source.backoff.next(this.#clock.now()), run.controller.signal, this.#clock);
        if (!slept) return;
      }
    }
  }

  /** Asks `exceptionCallback` (awaited) whether to keep a failed watcher; culls it otherwise. */
  async #keep(source: Source, error: unknown): Promise<boolean> {
    let keep: unknown = false;
    let callbackError: unknown;
    let threw = false;
    try {
      keep = await this.#options.exceptionCallback?.(this as unknown as MultiplexingWatcher<never>, source.watcher, error);
    } catch (err) {
      threw = true;
      callbackError = err;
    }
    if (this.#sources.get(source.key) !== source || source.stopped) return false; // replaced or deleted meanwhile
    if (keep === true && !threw) return true;
    this.#watchers.delete(source.key);
    this.#removeSource(source.key);
    this.culled.push(threw ? { watcher: source.watcher, error, callbackError } : { watcher: source.watcher, error });
    try {
      this.#options.onCulled?.(source.watcher, error);
    } catch {
      /* a hook must not break the stream */
    }
    return false;
  }
}

/** The kinds of a list of watchers. */
type KindOfWatcher<X> = X extends Watcher<infer K, infer T> ? KindWithObjects<K, T> : never;

/** How `new MultiplexingWatcher(...)` types itself: by the watchers given to it. */
export interface MultiplexingWatcherConstructor {
  new <const W extends readonly AnyWatcher[] = []>(
    options?: MultiplexingWatcherOptions<W>,
  ): MultiplexingWatcher<KindOfWatcher<W[number]>>;
  readonly prototype: MultiplexingWatcher<any>;
}

/**
 * Merges one watcher per kind into one stream, as Hikaru's MultiplexingWatcher; see
 * {@link MultiplexingWatcherOptions}. Events narrow by `kind` for the watchers given to the
 * constructor (`watchers`) or added in the same expression (`.addWatcher(...)` chains).
 *
 * @example
 * ```ts
 * const mux = new MultiplexingWatcher({ watchers: [new Watcher(Pod), new Watcher(ConfigMap)] });
 * for await (const e of mux.stream()) if (e.kind === 'Pod' && !e.tombstone) console.log(e.object.status?.phase);
 * ```
 */
export type MultiplexingWatcher<Ks extends KubernetesKind = never> = Multiplexer<Ks>;
export const MultiplexingWatcher = Multiplexer as unknown as MultiplexingWatcherConstructor;
