import type { KubernetesKind, WatchedObject } from '@kwatch/models';
import PQueue from 'p-queue';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { type Clock, sleep, systemClock } from './clock.ts';
import { KwatchError } from './errors.ts';
import { WatchEvent, type WatchEventType, type WatchMarker } from './events.ts';
import type { ConnectLimiter, StreamOptions } from './options.ts';
import type { Watcher } from './watcher.ts';

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
 * for await (const e of mux.stream()) if (e.kind === 'Pod') e.object.spec?.nodeName;
 * ```
 */
export class MultiplexedEvent<T, N extends string = string> extends WatchEvent<T> {
  /** The kind of the object, e.g. `Pod`. */
  readonly kind: N;
  /** The watcher that produced the event. */
  readonly watcher: AnyWatcher;

  constructor(type: WatchEventType, object: T, synthetic: boolean, kind: N, watcher: AnyWatcher) {
    super(type, object, synthetic);
    this.kind = kind;
    this.watcher = watcher;
  }
}

/** A marker of one of the multiplexed watchers (with `stream({ markers: true })`). */
export type MultiplexedMarker = WatchMarker & { readonly kind: string; readonly watcher: AnyWatcher };

/** The events of a multiplexer over kinds `Ks`: a union that narrows on `kind`. */
export type MultiplexedEventOf<Ks> = [Ks] extends [never]
  ? MultiplexedEvent<unknown>
  : Ks extends KubernetesKind
    ? MultiplexedEvent<WatchedObject<Ks>, ItemKind<Ks>>
    : never;

/**
 * Decides whether a watcher that failed is kept (restarted after a backoff) or culled.
 * Only exactly `true` keeps it. It may replace the watcher (`mux.addWatcher(other)`).
 */
export type ExceptionCallback = (mux: MultiplexingWatcher<never>, watcher: AnyWatcher, error: unknown) => unknown;

/** Options of {@link MultiplexingWatcher}. */
export interface MultiplexingWatcherOptions {
  /** Called when a watcher's stream fails; exactly `true` keeps it. Default: none (a failing watcher is culled). */
  readonly exceptionCallback?: ExceptionCallback;
  /** How many watchers may connect or list at the same time. Default: `4`. */
  readonly connectConcurrency?: number;
  /** Events buffered per watcher before it stops reading (backpressure). Default: `256`. */
  readonly bufferSize?: number;
  /** Delay before a kept watcher restarts. Default: 800 ms doubling to 30 s, full jitter. */
  readonly restartBackoff?: BackoffOptions;
  /** Called when a watcher is culled, with the reason. Default: none (see {@link MultiplexingWatcher.culled}). */
  readonly onCulled?: (watcher: AnyWatcher, error: unknown) => void;
  /** Testing seam. Default: the system clock. */
  readonly clock?: Clock;
}

interface Source {
  readonly key: string;
  readonly watcher: AnyWatcher;
  readonly kind: string;
  readonly queue: Array<WatchEvent<unknown> | WatchMarker>;
  readonly backoff: Backoff;
  stopped: boolean;
  space: (() => void) | undefined;
}

const keyOf = (w: AnyWatcher): string => `${w.target.info.apiVersion}/${w.target.info.kind}`;

/**
 * Merges one watcher per kind into one stream, as Hikaru's MultiplexingWatcher — without a
 * thread per watcher, an unbounded queue, callback spins or lost replacements.
 *
 * - One watcher per kind (Pod and PodList are one kind): adding another replaces and stops the first.
 * - Adding and deleting while streaming take effect at once; a deleted watcher's events stop
 *   (except those already handed out).
 * - Fair: watchers are served round-robin, so a busy kind cannot starve a quiet one.
 * - Bounded: each watcher buffers at most `bufferSize` events, then stops reading.
 * - At most `connectConcurrency` watchers connect or list at once (p-queue).
 * - The stream ends when no watcher is left (an empty multiplexer ends at once), on `stop()`,
 *   or on `break`; a stopped multiplexer can stream again.
 *
 * @example
 * ```ts
 * const mux = new MultiplexingWatcher({ exceptionCallback: (_m, _w, err) => isKwatchError(err) && err.retryable })
 *   .addWatcher(new Watcher(Pod, { namespace: 'web' }))
 *   .addWatcher(new Watcher(ConfigMap, { namespace: 'web' }));
 * for await (const e of mux.stream()) {
 *   if (e.kind === 'Pod') console.log('pod', e.object.status?.phase);
 *   else console.log('configmap', Object.keys(e.object.data ?? {}));
 * }
 * ```
 */
export class MultiplexingWatcher<Ks extends KubernetesKind = never> {
  readonly #options: MultiplexingWatcherOptions;
  readonly #watchers = new Map<string, AnyWatcher>();
  readonly #sources = new Map<string, Source>();
  readonly #queue: PQueue;
  readonly #clock: Clock;
  #run: { options: StreamOptions; controller: AbortController; limiter: ConnectLimiter } | undefined;
  #wake: (() => void) | undefined;
  #connecting = 0;
  #maxConnecting = 0;
  /** Watchers culled so far, with the reason, newest last. */
  readonly culled: Array<{ watcher: AnyWatcher; error: unknown }> = [];

  constructor(options: MultiplexingWatcherOptions = {}) {
    const concurrency = options.connectConcurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new KwatchError(
        'INVALID_OPTION',
        `Expected \`connectConcurrency\` to be a positive integer, got ${String(concurrency)}`,
      );
    }
    const bufferSize = options.bufferSize ?? 256;
    if (!Number.isInteger(bufferSize) || bufferSize < 1) {
      throw new KwatchError('INVALID_OPTION', `Expected \`bufferSize\` to be a positive integer, got ${String(bufferSize)}`);
    }
    if (options.exceptionCallback !== undefined && typeof options.exceptionCallback !== 'function') {
      throw new KwatchError('INVALID_OPTION', 'Expected `exceptionCallback` to be a function');
    }
    this.#options = options;
    this.#queue = new PQueue({ concurrency });
    this.#clock = options.clock ?? systemClock;
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
   * Adds a watcher; one for the same kind is stopped and replaced. While streaming, the new
   * watcher starts at once with the stream's options. Returns the multiplexer, typed to
   * include the new kind.
   */
  addWatcher<K extends KubernetesKind>(watcher: Watcher<K, any>): MultiplexingWatcher<Ks | K> {
    const key = keyOf(watcher);
    const previous = this.#watchers.get(key);
    if (previous && previous !== watcher) this.#removeSource(key);
    this.#watchers.set(key, watcher);
    if (this.#run && !this.#sources.has(key)) this.#startSource(key, watcher);
    return this as unknown as MultiplexingWatcher<Ks | K>;
  }

  /** Removes a watcher (or the watcher of a kind) and stops it. Its queued events are dropped. */
  delWatcher(watcherOrKind: AnyWatcher | KubernetesKind): boolean {
    const key = this.#keyFor(watcherOrKind);
    if (key === undefined) return false;
    this.#removeSource(key);
    return this.#watchers.delete(key);
  }

  #keyFor(w: AnyWatcher | KubernetesKind): string | undefined {
    for (const [key, watcher] of this.#watchers) {
      if (watcher === w || watcher.kind === w) return key;
    }
    return undefined;
  }

  /** Stops the stream (within 100 ms) and every watcher; the multiplexer can stream again. */
  stop(): void {
    this.#run?.controller.abort(new KwatchError('ABORTED', 'The multiplexer was stopped'));
    this.#notify();
  }

  /**
   * The merged events. The options apply to every watcher, including ones added later.
   * A watcher's failure goes to `exceptionCallback`; the stream itself only fails for
   * misuse (a second concurrent stream).
   */
  stream(options: StreamOptions & { markers: true }): AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined>;
  stream(options?: StreamOptions): AsyncGenerator<MultiplexedEventOf<Ks>, void, undefined>;
  stream(options: StreamOptions = {}): AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined> {
    return this.#merge(options) as AsyncGenerator<MultiplexedEventOf<Ks> | MultiplexedMarker, void, undefined>;
  }

  async *#merge(options: StreamOptions): AsyncGenerator<MultiplexedEvent<unknown> | MultiplexedMarker, void, undefined> {
    if (this.#run) throw new KwatchError('ALREADY_STREAMING', 'This multiplexer is already streaming');
    const controller = new AbortController();
    const onOuterAbort = (): void => this.stop();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const limiter: ConnectLimiter = (run, signal) => this.#queue.add(() => this.#counted(run), { signal });
    this.#run = { options: { ...options, signal: controller.signal }, controller, limiter };
    try {
      if (options.signal?.aborted) return;
      for (const [key, watcher] of this.#watchers) this.#startSource(key, watcher);
      let next = 0;
      while (!controller.signal.aborted) {
        const sources = [...this.#sources.values()];
        if (sources.length === 0) return;
        let taken: { source: Source; item: WatchEvent<unknown> | WatchMarker } | undefined;
        for (let i = 0; i < sources.length && !taken; i++) {
          const source = sources[(next + i) % sources.length] as Source;
          const item = source.queue.shift();
          if (item) {
            taken = { source, item };
            next = (next + i + 1) % sources.length;
            source.space?.();
          }
        }
        if (!taken) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        const { source, item } = taken;
        yield item instanceof WatchEvent
          ? new MultiplexedEvent(item.type, item.object, item.synthetic, source.kind, source.watcher)
          : { ...item, kind: source.kind, watcher: source.watcher };
      }
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      for (const key of [...this.#sources.keys()]) this.#removeSource(key);
      this.#run = undefined;
      this.#wake = undefined;
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
    const source: Source = {
      key,
      watcher,
      kind: watcher.target.info.kind,
      queue: [],
      backoff: new Backoff(this.#options.restartBackoff),
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
    source.watcher.stop();
    source.space?.();
    this.#notify();
  }

  /** Feeds one watcher's events into its queue, waiting while the queue is full. */
  async #pump(source: Source): Promise<void> {
    const run = this.#run;
    if (!run) return;
    const bufferSize = this.#options.bufferSize ?? 256;
    while (!source.stopped) {
      try {
        for await (const item of source.watcher.stream({ ...run.options, connectLimiter: run.limiter })) {
          if (source.stopped) return;
          source.queue.push(item);
          this.#notify();
          while (source.queue.length >= bufferSize && !source.stopped) {
            await new Promise<void>((resolve) => {
              source.space = resolve;
            });
            source.space = undefined;
          }
        }
        // The watcher ended by itself (quitOnTimeout): it leaves this stream, not the multiplexer.
        if (!source.stopped && this.#sources.get(source.key) === source) {
          this.#sources.delete(source.key);
          this.#notify();
        }
        return;
      } catch (failure) {
        if (source.stopped || run.controller.signal.aborted) return;
        let keep: unknown = false;
        let error = failure;
        try {
          keep = this.#options.exceptionCallback?.(this as unknown as MultiplexingWatcher<never>, source.watcher, failure);
        } catch (callbackError) {
          keep = false;
          error = callbackError;
        }
        if (this.#sources.get(source.key) !== source) return; // replaced or deleted by the callback
        if (keep === true) {
          const slept = await sleep(source.backoff.next(this.#clock.now()), run.controller.signal, this.#clock);
          if (!slept) return;
          continue;
        }
        this.#watchers.delete(source.key);
        this.#removeSource(source.key);
        this.culled.push({ watcher: source.watcher, error });
        try {
          this.#options.onCulled?.(source.watcher, error);
        } catch {
          /* a hook must not break the stream */
        }
        return;
      }
    }
  }
}
