// skafos's StreamWatch on a kwatch watch: a target and listeners, run with health endpoints and leader election.
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { type CheckWatchable, type KubernetesKind, type KubernetesObject, resourceFromCRD } from '@kwatch/models';
import {
  type Culled,
  checkOptions,
  KwatchError,
  MultiplexingWatcher,
  optionSchemas,
  requireOption,
  type WatchEvent,
  Watcher,
  type WatcherOptions,
  type WatchMarker,
} from '@kwatch/watch-core';
import { z } from 'zod';
import { type DispatcherOptions, dispatcherOptionsShape, ListenerDispatcher } from './dispatcher.ts';
import { type HealthServer, type HealthServerOptions, startHealthServer } from './health.ts';
import { type LeaderElectionOptions, LeaderElector, leaderElectionOptionsShape } from './leaderElection.ts';
import type { ListenerSpec } from './listener.ts';

/** Options of {@link StreamWatch.run}. Every default is in `DEFAULTS` (`health`, `leaderElection`). */
export interface RunOptions {
  /** End the run after this many seconds. Default: run until `stop()` or the signal. */
  readonly timeoutSeconds?: number;
  /**
   * End the run after this many seconds.
   *
   * @deprecated Renamed `timeoutSeconds` (the unit in the name); the same value. Giving both is an `INVALID_OPTION`.
   */
  readonly timeout?: number;
  /** Serve /healthz and /readyz on this port (0: a free one). Default: no health server. */
  readonly healthcheckPort?: number;
  /** Address of the health server. Default: `127.0.0.1`. */
  readonly healthcheckHost?: string;
  /** Answers `GET /metrics` on the health server (e.g. a Prometheus exporter's request handler). Default: none. */
  readonly healthcheckMetrics?: HealthServerOptions['metrics'];
  /**
   * Stream only while leader of this Lease; `onStartedLeading` / `onStoppedLeading` are told too (after the run's
   * own handling). Default: no leader election.
   */
  readonly leaderElection?: Omit<LeaderElectionOptions, 'kubeConfig'>;
  /** Ends the run. Default: none (until `stop()`). */
  readonly signal?: AbortSignal;
}

/** {@link RunOptions} validated, `timeout` read as `timeoutSeconds`. */
export interface ResolvedRunOptions {
  readonly timeoutSeconds: number | undefined;
  readonly healthcheckPort: number | undefined;
  readonly healthcheckHost: string | undefined;
  readonly healthcheckMetrics: HealthServerOptions['metrics'];
  readonly leaderElection: RunOptions['leaderElection'];
  readonly signal: AbortSignal | undefined;
}

const RunOptionsSchema = z.strictObject({
  timeoutSeconds: optionSchemas.positiveSeconds.optional(),
  timeout: optionSchemas.positiveSeconds.optional(),
  healthcheckPort: optionSchemas.port.optional(),
  healthcheckHost: optionSchemas.nonEmpty.optional(),
  healthcheckMetrics: optionSchemas.function.optional(),
  leaderElection: z.strictObject(leaderElectionOptionsShape).optional(),
  signal: optionSchemas.signal.optional(),
});

/**
 * Validates {@link StreamWatch.run}'s options: a bad or unknown option is a `KwatchError` `INVALID_OPTION` naming
 * it. The deprecated `timeout` is read as `timeoutSeconds`. The health server and the lease apply their own
 * defaults (`DEFAULTS.health`, `DEFAULTS.leaderElection`).
 */
export function resolveRunOptions(options: RunOptions | undefined): ResolvedRunOptions {
  const o = checkOptions(RunOptionsSchema, options, 'the run options') as RunOptions;
  requireOption(
    o.timeout === undefined || o.timeoutSeconds === undefined,
    'timeout',
    'left out when `timeoutSeconds` is given (it is its deprecated name)',
    o.timeout,
  );
  return {
    timeoutSeconds: o.timeoutSeconds ?? o.timeout,
    healthcheckPort: o.healthcheckPort,
    healthcheckHost: o.healthcheckHost,
    healthcheckMetrics: o.healthcheckMetrics,
    leaderElection: o.leaderElection,
    signal: o.signal,
  };
}

/** Options of a {@link StreamWatch}: the watcher's (for a kind target) and the dispatcher's. */
export type StreamWatchOptions<K extends KubernetesKind> = WatcherOptions<K> &
  DispatcherOptions & {
    /** Told of each `SYNCED` (initial state complete, or a resync done) and `RESYNC` marker, with its kind. Default: none. */
    readonly onMarker?: (marker: WatchMarker & { readonly kind: string }) => void;
  };

/** {@link StreamWatchOptions} split by who takes them, validated. */
export interface ResolvedStreamWatchOptions<K extends KubernetesKind> {
  /** For the watcher a kind target gets (validated by it); for any other target, at most `kubeConfig`. */
  readonly watcher: WatcherOptions<K>;
  readonly dispatcher: DispatcherOptions;
  readonly onMarker: StreamWatchOptions<K>['onMarker'];
  /** The cluster of the lease (and of the watcher of a kind target). */
  readonly kubeConfig: KubeConfig | undefined;
}

const StreamWatchOwnOptionsSchema = z.object({
  ...dispatcherOptionsShape,
  onMarker: optionSchemas.function.optional(),
});

/**
 * Validates a {@link StreamWatch}'s options and splits them: the dispatcher's (`concurrency`, `chain`,
 * `onListenerError`, defaults in `DEFAULTS.dispatcher`), `onMarker`, and the rest for the watcher of a kind target
 * (checked by the `Watcher`, defaults in watch-core's `DEFAULTS.watcher`). A target that is already a watcher or a
 * multiplexer takes no watcher option but `kubeConfig` (the lease's cluster): any other is a `KwatchError`
 * `INVALID_OPTION` naming it, not silently ignored.
 */
export function resolveStreamWatchOptions<K extends KubernetesKind>(
  options: StreamWatchOptions<K> | undefined,
  target: 'kind' | 'watcher',
): ResolvedStreamWatchOptions<K> {
  checkOptions(StreamWatchOwnOptionsSchema, options, 'the StreamWatch options'); // the watcher's are the Watcher's to check
  const { concurrency, chain, onListenerError, onMarker, ...watcher } = options ?? ({} as StreamWatchOptions<K>);
  if (target === 'watcher') {
    const extra = Object.keys(watcher).filter((k) => k !== 'kubeConfig');
    if (extra.length) {
      throw new KwatchError(
        'INVALID_OPTION',
        `Unknown option${extra.length > 1 ? 's' : ''} ${extra.map((k) => `\`${k}\``).join(', ')} for a StreamWatch of a watcher or multiplexer: give watcher options to the Watcher`,
      );
    }
  }
  return {
    watcher,
    dispatcher: {
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(chain === undefined ? {} : { chain }),
      ...(onListenerError === undefined ? {} : { onListenerError }),
    },
    onMarker,
    kubeConfig: watcher.kubeConfig,
  };
}

/** A target of several kinds: watchers (each with its own options) or a multiplexer. */
export type MultiTarget = readonly Watcher<any, any>[] | MultiplexingWatcher<any>;

/**
 * skafos's StreamWatch, on a kwatch watch: a target (a kind, a watcher, several watchers or a
 * multiplexer, or a CRD YAML file) and listeners; `run()` streams and dispatches until
 * `stop()`, with optional health endpoints and leader election. A watch failure that cannot
 * be retried ends `run()` with that error (it is never swallowed); with several kinds, the
 * others keep streaming and `run()` ends with the first such error once stopped.
 *
 * @example
 * ```ts
 * const sw = new StreamWatch(Pod, [new Audit()], { namespace: 'web' });
 * await sw.run({ healthcheckPort: 8080, leaderElection: { namespace: 'web', name: 'audit' } });
 * ```
 */
export class StreamWatch<K extends KubernetesKind> {
  readonly #watcher: Watcher<K> | undefined;
  readonly #mux: MultiplexingWatcher<any> | undefined;
  readonly #dispatcher: ListenerDispatcher<any>;
  /** The options' kubeConfig; without one, the watcher and the lease read the default kubeconfig themselves. */
  readonly #kubeConfig: KubeConfig | undefined;
  readonly #onMarker: StreamWatchOptions<K>['onMarker'];
  #controller = new AbortController();
  /** Kinds whose initial state is complete. */
  readonly #synced = new Set<string>();
  #standby = false;
  /** The health server's URL while it runs. */
  healthUrl: string | undefined;

  /**
   * Throws a `KwatchError` `INVALID_OPTION` naming an unknown or bad option (see {@link StreamWatchOptions}); a
   * watcher or multiplexer target takes no watcher option but `kubeConfig`.
   */
  constructor(
    target: (K & CheckWatchable<K>) | Watcher<K> | MultiTarget,
    listeners: ListenerSpec<any>[],
    options: StreamWatchOptions<K> = {},
  ) {
    const isWatcher = target instanceof MultiplexingWatcher || Array.isArray(target) || target instanceof Watcher;
    const o = resolveStreamWatchOptions(options, isWatcher ? 'watcher' : 'kind');
    this.#onMarker = o.onMarker;
    this.#kubeConfig = o.kubeConfig;
    this.#dispatcher = new ListenerDispatcher(listeners, o.dispatcher);
    if (target instanceof MultiplexingWatcher) this.#mux = target;
    else if (Array.isArray(target)) this.#mux = new MultiplexingWatcher({ watchers: target as Watcher<any, any>[] });
    else if (target instanceof Watcher) this.#watcher = target;
    else this.#watcher = new Watcher(target as K & CheckWatchable<K>, o.watcher);
  }

  /** A StreamWatch over the custom resource of an apiextensions.k8s.io/v1 CRD YAML file (all namespaces by default). */
  static fromCRDFile(
    path: string,
    listeners: ListenerSpec<KubernetesObject>[],
    options: WatcherOptions<KubernetesKind> & DispatcherOptions & { version?: string } = {},
  ): StreamWatch<KubernetesKind> {
    const { version, ...rest } = options;
    const kind = resourceFromCRD(readFileSync(path, 'utf8'), version ? { version } : {});
    return new StreamWatch(kind as never, listeners, rest as never);
  }

  /** The watcher underneath (with several kinds: the first). */
  get watcher(): Watcher<K> {
    return (this.#watcher ?? this.#mux?.watchers()[0]) as Watcher<K>;
  }

  /** Every watcher underneath. */
  watchers(): Watcher<any, any>[] {
    return this.#watcher ? [this.#watcher] : (this.#mux?.watchers() ?? []);
  }

  /** Watchers of several kinds that failed for good (their kinds stopped; the others went on). */
  get culled(): readonly Culled[] {
    return this.#mux?.culled ?? [];
  }

  /**
   * Streams and dispatches until stopped; resolves after the listeners drained. Bad options reject with a
   * `KwatchError` `INVALID_OPTION` before anything starts (see {@link RunOptions}).
   */
  async run(runOptions: RunOptions = {}): Promise<void> {
    const options = resolveRunOptions(runOptions);
    this.#controller = new AbortController();
    const signals = [this.#controller.signal];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutSeconds !== undefined) signals.push(AbortSignal.timeout(options.timeoutSeconds * 1000));
    const signal = signals.length === 1 ? this.#controller.signal : AbortSignal.any(signals);
    if (signal.aborted) return; // nothing started, nothing to stop: an already-aborted run ends at once
    let health: HealthServer | undefined;
    let elector: LeaderElector | undefined;
    try {
      if (options.healthcheckPort !== undefined) {
        health = await startHealthServer({
          port: options.healthcheckPort,
          ...(options.healthcheckHost ? { host: options.healthcheckHost } : {}),
          ...(options.healthcheckMetrics ? { metrics: options.healthcheckMetrics } : {}),
          sources: () =>
            this.watchers().map((w) => ({
              name: w.target.info.plural,
              health: () => w.health(),
              ready: () => this.#synced.has(w.target.info.kind) || this.#standby,
            })),
        });
        this.healthUrl = health.url;
      }
      if (!options.leaderElection) {
        await this.#stream(signal);
        return;
      }
      const { onStartedLeading, onStoppedLeading } = options.leaderElection;
      this.#standby = true;
      let streaming: Promise<void> = Promise.resolve();
      let failure: unknown;
      elector = new LeaderElector({
        ...options.leaderElection,
        kubeConfig: this.#kubeConfig,
        onStartedLeading: (leading) => {
          this.#standby = false;
          streaming = this.#stream(AbortSignal.any([signal, leading])).catch((e: unknown) => {
            failure = e;
            this.#controller.abort();
          });
          onStartedLeading?.(leading);
        },
        onStoppedLeading: () => {
          this.#standby = true;
          this.#synced.clear();
          onStoppedLeading?.();
        },
      });
      void elector.run();
      await abortedPromise(signal);
      await streaming;
      if (failure) throw failure;
    } finally {
      // A leader hands the lease over on the way out; a loaded apiserver may take more than the elector's default
      // 500 ms to answer that write (the CLI's --leader-elect test missed it so in CI), after which a successor waits
      // for the lease to expire. Up to 2 s here: an interrupted process, not a library call, pays it.
      await elector?.stop({ releaseTimeoutMs: 2000 });
      await this.#dispatcher.drain();
      await health?.close();
      this.healthUrl = undefined;
    }
  }

  async #stream(signal: AbortSignal): Promise<void> {
    const items: AsyncIterable<WatchEvent<unknown> | (WatchMarker & { kind?: string })> = this.#watcher
      ? this.#watcher.stream({ markers: true, signal })
      : (this.#mux as MultiplexingWatcher<any>).stream({ markers: true, signal });
    const single = this.#watcher?.target.info.kind ?? '';
    for await (const e of items) {
      if (e.type === 'SYNCED' || e.type === 'RESYNC') {
        const kind = (e as { kind?: string }).kind ?? single;
        if (e.type === 'SYNCED') this.#synced.add(kind);
        this.#onMarker?.({ ...(e as WatchMarker), kind });
      } else await this.#dispatcher.dispatch(e as WatchEvent<unknown>);
    }
    // Several kinds: the stream ends by itself once every kind failed for good; the run ends with the first failure.
    const culled = this.#mux?.culled[0];
    if (culled && !signal.aborted) throw culled.error;
  }

  /** Ends `run()` promptly (releasing the lease when leader). */
  stop(): void {
    this.#controller.abort();
  }
}

/** Resolves when `signal` aborts (at once if it already has). */
function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
