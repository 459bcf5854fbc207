import { KubeConfig } from '@kubernetes/client-node';
import {
  adoptObject,
  type CheckWatchable,
  type KubernetesKind,
  KwatchError,
  modelClassFor,
  type WatchedObject,
  type WatchTarget,
  watchTarget,
} from '@kwatch/models';
import { Backoff } from './backoff.ts';
import { systemClock } from './clock.ts';
import type { WatchEvent, WatchMarker } from './events.ts';
import { DEFAULT_MAX_LINE_BYTES } from './lineDecoder.ts';
import { type Item, Machine, newShared, type Shared, type State, type WatcherHealth } from './machine.ts';
import {
  type ConnectLimiter,
  checkStreamOptions,
  checkWatcherOptions,
  type StreamOptions,
  type WatcherOptions,
} from './options.ts';
import { kubeConfigTransport, type WatchTransport } from './transport.ts';

/** Runs the transport's requests through the limiter, when there is one. */
function limited(transport: WatchTransport, limiter: ConnectLimiter | undefined): WatchTransport {
  if (!limiter) return transport;
  return {
    getJson: (path, query, signal) => limiter(() => transport.getJson(path, query, signal), signal),
    openStream: (path, query, signal) => limiter(() => transport.openStream(path, query, signal), signal),
  };
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
 * relists after 410 Gone, delivering what changed in the gap.
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
  readonly #shared: Shared;
  #transport: WatchTransport | undefined;
  #current: AbortController | undefined;
  #streaming = false;

  constructor(kind: K & CheckWatchable<K>, options: WatcherOptions<K> = {}) {
    checkWatcherOptions(options);
    this.target = watchTarget(kind, { namespace: options.namespace }) as unknown as WatchTarget<T>;
    this.#options = options;
    this.#shared = newShared(options.resourceVersion);
  }

  /** The kind this watcher watches (the value given to the constructor). */
  get kind(): K {
    return this.target.kind as K;
  }

  /** The namespace watched, or `undefined` for all namespaces. */
  get namespace(): string | undefined {
    return this.target.namespace;
  }

  /** The last resourceVersion seen (from events, bookmarks and lists), or the one given. */
  currentResourceVersion(): string | undefined {
    return this.#shared.resourceVersion;
  }

  /**
   * Sets the resourceVersion the next (managed) stream resumes from, as Hikaru's
   * `update_resource_version`. Objects known from before are still compared on a resync.
   */
  updateResourceVersion(resourceVersion: string): void {
    if (typeof resourceVersion !== 'string' || resourceVersion === '') {
      throw new KwatchError(
        'INVALID_OPTION',
        `Expected \`resourceVersion\` to be a non-empty string, got ${String(resourceVersion)}`,
      );
    }
    this.#shared.resourceVersion = resourceVersion;
    this.#shared.health.resourceVersion = resourceVersion;
  }

  /** A snapshot of where the watcher stands; cheap, safe to poll. */
  health(): WatcherHealth {
    return { ...this.#shared.health };
  }

  /**
   * Ends the running stream promptly — during a connect, a list, a read or a backoff —
   * closing its connection. The watcher keeps its resourceVersion and can stream again.
   * A stream not pulled yet has not started, so there is nothing to stop (as in Hikaru);
   * use a `signal` to cancel one before it starts.
   */
  stop(): void {
    this.#current?.abort(new KwatchError('ABORTED', 'The watcher was stopped'));
  }

  /**
   * The events, as an async iterable. Nothing happens until the first pull. Breaking out
   * of `for await`, `stop()` or an aborted signal ends it and frees everything.
   * Non-retryable failures (403, 404, a bad option, 410 when unmanaged) reject the
   * iteration with a typed error; retryable ones are retried with backoff and reported
   * through hooks and `health()`.
   *
   * @example
   * ```ts
   * for await (const e of watcher.stream({ markers: true })) {
   *   if (e.type === 'SYNCED') console.log('initial state complete');
   *   else console.log(e.type, e.object.metadata?.name);
   * }
   * ```
   */
  stream(options: StreamOptions & { markers: true }): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined>;
  stream(options?: StreamOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  stream(options: StreamOptions = {}): AsyncGenerator<WatchEvent<T> | WatchMarker, void, undefined> {
    checkStreamOptions(options);
    return this.#run(options, new AbortController());
  }

  async *#run(options: StreamOptions, controller: AbortController): AsyncGenerator<Item<T>, void, undefined> {
    if (this.#streaming) {
      throw new KwatchError('ALREADY_STREAMING', 'This watcher is already streaming; stop() it or use another Watcher');
    }
    this.#streaming = true;
    this.#current = controller;
    const o = this.#options;
    const signals = [controller.signal, o.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 1 ? controller.signal : AbortSignal.any(signals);
    let machine: Machine<T> | undefined;
    let state: State = { kind: 'start' };
    try {
      const cls = await modelClassFor(this.target as WatchTarget<unknown>);
      const schema = this.target.schema;
      machine = new Machine<T>(
        {
          target: this.target,
          transport: limited(this.#transportFor(), options.connectLimiter),
          clock: o.clock ?? systemClock,
          backoff: new Backoff(o.backoff),
          signal,
          manage: options.manageResourceVersion ?? true,
          quitOnTimeout: options.quitOnTimeout ?? false,
          markers: options.markers ?? false,
          startResourceVersion: o.resourceVersion,
          timeoutSeconds: o.timeoutSeconds ?? 290,
          allowWatchBookmarks: o.allowWatchBookmarks ?? true,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          inactivityTimeoutMs: o.inactivityTimeoutMs ?? 120_000,
          maxConsecutiveErrors: o.maxConsecutiveErrors ?? Number.POSITIVE_INFINITY,
          maxLineBytes: o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
          pageSize: o.pageSize ?? 500,
          watchList: o.watchList ?? 'auto',
          hooks: o.hooks ?? {},
          decode: (raw) => adoptObject<T>(raw, cls, schema),
        },
        this.#shared,
      );
      while (state.kind !== 'done') {
        const [items, next] = await machine.step(state);
        state = next;
        for (const item of items) yield item;
      }
    } finally {
      machine?.release(state);
      if (this.#shared.health.state !== 'failed') this.#shared.health.state = 'stopped';
      if (this.#current === controller) this.#current = undefined;
      controller.abort();
      this.#streaming = false;
    }
  }

  #transportFor(): WatchTransport {
    if (this.#options.transport) return this.#options.transport;
    if (!this.#transport) {
      let kc = this.#options.kubeConfig;
      if (!kc) {
        kc = new KubeConfig();
        kc.loadFromDefault();
      }
      this.#transport = kubeConfigTransport(kc, { http2: this.#options.http2 ?? true });
    }
    return this.#transport;
  }

  /** Stops the running stream on `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }
}
