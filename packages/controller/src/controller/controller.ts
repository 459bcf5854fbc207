// Controller: one kind's shared informer feeding a WorkQueue, and workers that reconcile keys level-triggered.
import type { CheckWatchable, KubernetesKind, WatchedObject } from '@kwatch/models';
import type { InformerFactoryOptions, InformerOptions } from '@kwatch/watch-core';
import { InformerFactory, isMarker, KwatchError } from '@kwatch/watch-core';
import { WorkQueue, type WorkQueueOptions } from '../queue/index.ts';

/**
 * Thrown by a reconcile that must not be retried (a spec that can never be satisfied): the key's backoff is reset and
 * it runs again only when it changes. Any other error retries with the queue's backoff.
 *
 * @example
 * ```ts
 * if (!object.data?.target) throw new TerminalError('no target: nothing to mirror');
 * ```
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/**
 * What a reconcile is given: the key, the object from the shared cache (`undefined` once it is gone), and a signal
 * aborted when the controller stops or the reconcile times out.
 *
 * @example
 * ```ts
 * reconcile: async ({ key, object, signal }) => { if (!object) return; await mirror(object, { signal }); }
 * ```
 */
export interface ReconcileContext<T> {
  /** `namespace/name` (`/name` for cluster-scoped kinds). */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
  /** The object as the shared cache holds it now; `undefined` when it does not exist (deleted). Do not mutate it. */
  readonly object: T | undefined;
  /** Aborted when the controller stops or this reconcile times out. */
  readonly signal: AbortSignal;
  /** Failures in a row of this key before this run (0 on a first try or after a success). */
  readonly retries: number;
}

/**
 * What a reconcile returns: nothing (done until the object changes) or `{ requeueAfterMs }` (run again then, as
 * controller-runtime's `RequeueAfter`).
 *
 * @example
 * ```ts
 * return { requeueAfterMs: 60_000 }; // check again in a minute
 * ```
 */
export type ReconcileResult = undefined | { readonly requeueAfterMs?: number };

/**
 * Options of a {@link Controller}.
 *
 * @example
 * ```ts
 * new Controller(ConfigMap, { namespace: 'web', labelSelector: 'mirror=yes', concurrency: 4, reconcile });
 * ```
 */
export interface ControllerOptions<T> {
  /** Reconciles one key; throws to retry with backoff, throws {@link TerminalError} not to. */
  readonly reconcile: (context: ReconcileContext<T>) => Promise<ReconcileResult | undefined> | ReconcileResult | undefined;
  /** Watch within this namespace; `''` or none watches all namespaces. Default: all namespaces. */
  readonly namespace?: string;
  /** A label selector. Default: none. */
  readonly labelSelector?: string;
  /** A field selector. Default: none. */
  readonly fieldSelector?: string;
  /** Keys reconciled at once (different keys; one key never twice at once). Default: `1`, as controller-runtime. */
  readonly concurrency?: number;
  /**
   * A reconcile running longer is aborted (its `signal`) and counted a failure (retried with backoff); its key is not
   * run again before the running call settles. Default: none.
   */
  readonly reconcileTimeoutMs?: number;
  /** The shared informers to watch through (one watch per kind for every controller on it). Default: a new factory. */
  readonly informers?: InformerFactory;
  /** The cluster, for a new factory (ignored with `informers`). Default: the default kubeconfig or in-cluster. */
  readonly kubeConfig?: InformerFactoryOptions['kubeConfig'];
  /** The queue's backoff, token bucket and aging. Default: see {@link WorkQueueOptions}. */
  readonly queue?: WorkQueueOptions;
  /** Told of every failed reconcile (after it is requeued, or not for a {@link TerminalError}). Default: none. */
  readonly onError?: (error: unknown, key: string) => void;
}

/** Options of {@link Controller.run}. */
export interface RunOptions {
  /** Stops the controller: nothing new starts, running reconciles are aborted and awaited. Default: none. */
  readonly signal?: AbortSignal;
  /** How long `run()` waits, after the signal, for running reconciles to settle. Default: `30000`. */
  readonly drainTimeoutMs?: number;
}

/** Figures of a controller, for tests and health. */
export interface ControllerStats {
  /** Reconciles started. */
  readonly reconciles: number;
  /** Reconciles that threw (retried or terminal). */
  readonly failures: number;
  /** Reconciles running now. */
  readonly running: number;
  /** Keys waiting in the queue. */
  readonly queued: number;
}

/**
 * A level-triggered controller of one kind: every change of an object (and every object of the initial list, at low
 * priority) enqueues its key; `concurrency` workers take keys from a {@link WorkQueue} and call `reconcile` with the
 * object as the shared cache holds it at that moment. A key is never reconciled twice at once; changes that come while
 * it runs make one more run after it; failures retry with per-key exponential backoff under an overall token bucket.
 *
 * @example
 * ```ts
 * const controller = new Controller(ConfigMap, {
 *   namespace: 'web',
 *   reconcile: async ({ object }) => { if (object) await ensureMirror(object); },
 * });
 * await controller.run({ signal: AbortSignal.timeout(60_000) });
 * ```
 */
export class Controller<K extends KubernetesKind> {
  readonly #kind: K;
  readonly #options: ControllerOptions<WatchedObject<K>>;
  readonly #queue: WorkQueue<string>;
  #reconciles = 0;
  #failures = 0;
  #running = false;

  /** Checks `concurrency` and `reconcileTimeoutMs` (an `INVALID_OPTION` naming what is wrong). */
  constructor(kind: K & CheckWatchable<K>, options: ControllerOptions<WatchedObject<K>>) {
    if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency > 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`concurrency\` to be a positive integer, got ${options.concurrency}`);
    }
    const timeout = options.reconcileTimeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new KwatchError('INVALID_OPTION', `Expected \`reconcileTimeoutMs\` to be a positive number, got ${timeout}`);
    }
    if (typeof options.reconcile !== 'function') {
      throw new KwatchError('INVALID_OPTION', 'Expected `reconcile` to be a function');
    }
    this.#kind = kind;
    this.#options = options;
    this.#queue = new WorkQueue<string>(options.queue);
  }

  /** What the controller has done so far. */
  get stats(): ControllerStats {
    return { reconciles: this.#reconciles, failures: this.#failures, running: this.#queue.running, queued: this.#queue.length };
  }

  /**
   * Watches, reconciles, until `signal` aborts; then starts nothing more, aborts the running reconciles and waits for
   * them (at most `drainTimeoutMs`), and resolves. Rejects when the watch fails for good (403, a deleted kind).
   * Runs once per controller.
   */
  async run(options: RunOptions = {}): Promise<void> {
    if (this.#running) throw new KwatchError('ALREADY_STREAMING', 'This controller is already running');
    this.#running = true;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const ownFactory = this.#options.informers === undefined;
    const informers =
      this.#options.informers ?? new InformerFactory(this.#options.kubeConfig ? { kubeConfig: this.#options.kubeConfig } : {});
    const selection = {
      ...(this.#options.namespace ? { namespace: this.#options.namespace } : {}),
      ...(this.#options.labelSelector ? { labelSelector: this.#options.labelSelector } : {}),
      ...(this.#options.fieldSelector ? { fieldSelector: this.#options.fieldSelector } : {}),
    } as InformerOptions<K>;
    const kind = this.#kind as K & CheckWatchable<K>;
    const store = informers.store(kind, selection as never);
    const queue = this.#queue;
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    try {
      const feed = (async () => {
        let synced = false;
        const events = informers.stream(kind, { ...selection, markers: true, signal: stop.signal } as never);
        for await (const e of events as AsyncIterable<{
          type: string;
          object?: { metadata?: { namespace?: string; name?: string } };
        }>) {
          if (isMarker(e as never)) {
            synced = e.type === 'SYNCED';
            continue;
          }
          const meta = e.object?.metadata;
          queue.add(`${meta?.namespace ?? ''}/${meta?.name ?? ''}`, synced ? 'high' : 'low');
        }
      })().catch((error: unknown) => {
        if (!stop.signal.aborted) failure = { error };
        stop.abort(error);
      });
      const workers = Array.from({ length: this.#options.concurrency ?? 1 }, () => this.#work(store, stop.signal, inFlight));
      await new Promise<void>((resolve) => {
        if (stop.signal.aborted) resolve();
        else stop.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      queue.shutDown();
      await feed;
      await Promise.all(workers);
      const drained = Promise.all(inFlight).then(() => queue.drain());
      const limit = options.drainTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, limit)))]);
      clearTimeout(timer);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      store.release();
      if (ownFactory) informers.stop();
    }
    if (failure) throw failure.error;
  }

  /** One worker: takes keys until the queue shuts down; a reconcile that times out frees the worker, not its key. */
  async #work(
    store: { get(ns: string | undefined, name: string): unknown },
    stopped: AbortSignal,
    inFlight: Set<Promise<void>>,
  ): Promise<void> {
    const queue = this.#queue;
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      const slash = key.indexOf('/');
      const namespace = slash > 0 ? key.slice(0, slash) : undefined;
      const name = key.slice(slash + 1);
      const retries = queue.failures(key);
      const run = new AbortController();
      const onStop = (): void => run.abort(stopped.reason);
      stopped.addEventListener('abort', onStop, { once: true });
      this.#reconciles += 1;
      const current = key;
      // The key stays running until the call settles, even past a timeout: never two reconciles of one key at once.
      const call = (async () => {
        try {
          const result = await this.#options.reconcile({
            key: current,
            namespace,
            name,
            object: store.get(namespace, name) as WatchedObject<K> | undefined,
            signal: run.signal,
            retries,
          });
          if (run.signal.aborted && !stopped.aborted) throw run.signal.reason; // timed out: its result is not trusted
          queue.forget(current);
          const after = result?.requeueAfterMs;
          if (after !== undefined && after >= 0) queue.addAfter(current, after);
        } catch (error) {
          this.#failures += 1;
          if (error instanceof TerminalError) queue.forget(current);
          else queue.addRateLimited(current);
          this.#options.onError?.(error, current);
        } finally {
          stopped.removeEventListener('abort', onStop);
          queue.done(current);
        }
      })();
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
      const timeout = this.#options.reconcileTimeoutMs;
      if (timeout === undefined) {
        await call;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        call,
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            run.abort(new KwatchError('ABORTED', `The reconcile of ${current} took longer than ${timeout} ms`));
            resolve();
          }, timeout);
        }),
      ]);
      clearTimeout(timer);
    }
  }
}
