import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { type CheckWatchable, type KubernetesKind, type KubernetesObject, resourceFromCRD } from '@kwatch/models';
import { Watcher, type WatcherOptions } from '@kwatch/watch-core';
import { type DispatcherOptions, ListenerDispatcher } from './dispatcher.ts';
import { type HealthServer, startHealthServer } from './health.ts';
import { type LeaderElectionOptions, LeaderElector } from './leaderElection.ts';
import type { ListenerSpec } from './listener.ts';

/** Options of {@link StreamWatch.run}. */
export interface RunOptions {
  /** End the run after this many seconds. Default: run until `stop()` or the signal. */
  readonly timeout?: number;
  /** Serve /healthz and /readyz on this port (0: a free one). Default: no health server. */
  readonly healthcheckPort?: number;
  /** Address of the health server. Default: `127.0.0.1`. */
  readonly healthcheckHost?: string;
  /** Stream only while leader of this Lease. Default: no leader election. */
  readonly leaderElection?: Omit<LeaderElectionOptions, 'kubeConfig' | 'onStartedLeading' | 'onStoppedLeading'>;
  /** Ends the run. Default: none (until `stop()`). */
  readonly signal?: AbortSignal;
}

/**
 * skafos's StreamWatch, on a kwatch watch: a target (a kind, a watcher, or a CRD YAML file)
 * and listeners; `run()` streams and dispatches until `stop()`, with optional health
 * endpoints and leader election. A watch failure that cannot be retried ends `run()` with
 * that error (it is never swallowed).
 *
 * @example
 * ```ts
 * const sw = new StreamWatch(Pod, [new Audit()], { namespace: 'web' });
 * await sw.run({ healthcheckPort: 8080, leaderElection: { namespace: 'web', name: 'audit' } });
 * ```
 */
export class StreamWatch<K extends KubernetesKind> {
  readonly #watcher: Watcher<K>;
  readonly #dispatcher: ListenerDispatcher<any>;
  readonly #kubeConfig: KubeConfig;
  #controller = new AbortController();
  #synced = false;
  #standby = false;
  /** The health server's URL while it runs. */
  healthUrl: string | undefined;

  constructor(
    target: (K & CheckWatchable<K>) | Watcher<K>,
    listeners: ListenerSpec<any>[],
    options: WatcherOptions<K> & DispatcherOptions = {},
  ) {
    const { concurrency, chain, onListenerError, ...watcherOptions } = options;
    this.#kubeConfig = options.kubeConfig ?? defaultKubeConfig();
    this.#watcher = target instanceof Watcher ? target : new Watcher(target, { ...watcherOptions, kubeConfig: this.#kubeConfig });
    this.#dispatcher = new ListenerDispatcher(listeners, {
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(chain === undefined ? {} : { chain }),
      ...(onListenerError === undefined ? {} : { onListenerError }),
    });
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

  /** The watcher underneath. */
  get watcher(): Watcher<K> {
    return this.#watcher;
  }

  /** Streams and dispatches until stopped; resolves after the listeners drained. */
  async run(options: RunOptions = {}): Promise<void> {
    this.#controller = new AbortController();
    const signals = [this.#controller.signal];
    if (options.signal) signals.push(options.signal);
    if (options.timeout !== undefined) signals.push(AbortSignal.timeout(options.timeout * 1000));
    const signal = signals.length === 1 ? this.#controller.signal : AbortSignal.any(signals);
    if (signal.aborted) return; // nothing started, nothing to stop: an already-aborted run ends at once
    let health: HealthServer | undefined;
    let elector: LeaderElector | undefined;
    try {
      if (options.healthcheckPort !== undefined) {
        health = await startHealthServer({
          port: options.healthcheckPort,
          ...(options.healthcheckHost ? { host: options.healthcheckHost } : {}),
          sources: () => [
            {
              name: this.#watcher.target.info.plural,
              health: () => this.#watcher.health(),
              ready: () => this.#synced || this.#standby,
            },
          ],
        });
        this.healthUrl = health.url;
      }
      if (!options.leaderElection) {
        await this.#stream(signal);
        return;
      }
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
        },
        onStoppedLeading: () => {
          this.#standby = true;
          this.#synced = false;
        },
      });
      void elector.run();
      await abortedPromise(signal);
      await streaming;
      if (failure) throw failure;
    } finally {
      await elector?.stop();
      await this.#dispatcher.drain();
      await health?.close();
      this.healthUrl = undefined;
    }
  }

  async #stream(signal: AbortSignal): Promise<void> {
    for await (const e of this.#watcher.stream({ markers: true, signal })) {
      if (e.type === 'SYNCED') this.#synced = true;
      else if (e.type !== 'RESYNC') await this.#dispatcher.dispatch(e);
    }
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

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
