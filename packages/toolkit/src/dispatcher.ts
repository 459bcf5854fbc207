// Hands watch events to listeners: per-object order, bounded concurrency, each listener's failures isolated.
import { checkOptions, optionSchemas, type Tombstone, type WatchEvent } from '@kwatch/watch-core';
import PQueue from 'p-queue';
import { z } from 'zod';
import { DEFAULTS } from './defaults.ts';
import type { EventListener, ListenerContext, ListenerSpec } from './listener.ts';

/** Options of {@link ListenerDispatcher}. Every default is in `DEFAULTS.dispatcher`. */
export interface DispatcherOptions {
  /** Events of different objects handled at the same time (a positive integer). Default: `8`. */
  readonly concurrency?: number;
  /** Run the listeners as a chain with rollback instead of independently. Default: `false`. */
  readonly chain?: boolean;
  /** Told about every listener failure. Default: none. */
  readonly onListenerError?: (error: unknown, listener: EventListener<unknown>, event: WatchEvent<unknown>) => void;
}

/** {@link DispatcherOptions} with every default applied. */
interface ResolvedDispatcherOptions {
  readonly concurrency: number;
  readonly chain: boolean;
  readonly onListenerError: DispatcherOptions['onListenerError'];
}

/** The dispatcher's own options, for a schema of options that include them ({@link StreamWatch}'s). */
export const dispatcherOptionsShape = {
  concurrency: optionSchemas.positiveInt.optional(),
  chain: optionSchemas.boolean.optional(),
  onListenerError: optionSchemas.function.optional(),
};

const DispatcherOptionsSchema = z.strictObject(dispatcherOptionsShape);

/**
 * Validates a dispatcher's options and applies the defaults: an unknown or bad option is a `KwatchError`
 * `INVALID_OPTION` naming it.
 */
export function resolveDispatcherOptions(options: DispatcherOptions | undefined): ResolvedDispatcherOptions {
  const o = checkOptions(DispatcherOptionsSchema, options, 'the dispatcher options') as DispatcherOptions;
  return {
    concurrency: o.concurrency ?? DEFAULTS.dispatcher.concurrency,
    chain: o.chain ?? DEFAULTS.dispatcher.chain,
    onListenerError: o.onListenerError,
  };
}

/**
 * Hands events to listeners: events of one object in order, different objects
 * concurrently (bounded by a p-queue), each listener isolated from the others' failures.
 *
 * @example
 * ```ts
 * const dispatcher = new ListenerDispatcher([new Audit(), PerEventHandler], { concurrency: 16 });
 * for await (const e of watcher.stream()) await dispatcher.dispatch(e);
 * await dispatcher.drain();
 * ```
 */
export class ListenerDispatcher<T extends { metadata?: { name?: string; namespace?: string } | undefined }> {
  readonly #listeners: ListenerSpec<T>[];
  readonly #options: ResolvedDispatcherOptions;
  readonly #queue: PQueue;
  readonly #tails = new Map<string, Promise<void>>();

  /** Throws a `KwatchError` `INVALID_OPTION` naming an unknown or bad option (see {@link DispatcherOptions}). */
  constructor(listeners: ListenerSpec<T>[], options: DispatcherOptions = {}) {
    this.#listeners = listeners;
    this.#options = resolveDispatcherOptions(options);
    this.#queue = new PQueue({ concurrency: this.#options.concurrency });
  }

  /**
   * Schedules an event. Resolves once it is accepted; waits first while too much is pending
   * (backpressure on the stream that feeds it).
   */
  async dispatch(event: WatchEvent<T>): Promise<void> {
    const limit = this.#options.concurrency * DEFAULTS.dispatcher.pendingPerWorker;
    if (this.#queue.size + this.#queue.pending >= limit) await this.#queue.onSizeLessThan(limit);
    const meta = event.object.metadata;
    const key = `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const tail: Promise<void> = previous.then(() => this.#queue.add(() => this.#handle(event)));
    this.#tails.set(key, tail);
    void tail.finally(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
  }

  /** Resolves when every accepted event has been handled. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
    await this.#queue.onIdle();
  }

  async #handle(event: WatchEvent<T>): Promise<void> {
    const metadata = event.object.metadata as ListenerContext<T>['metadata'];
    const ctx: ListenerContext<T> = { event, metadata, state: {} };
    const done: EventListener<T>[] = [];
    for (const spec of this.#listeners) {
      const listener = typeof spec === 'function' ? new spec() : spec;
      let ok = true;
      try {
        const handler = (
          event.type === 'ADDED' ? listener.create : event.type === 'MODIFIED' ? listener.update : listener.delete
        ) as (this: EventListener<T>, object: T | Tombstone<T>, ctx: ListenerContext<T>) => unknown;
        ok = (await handler.call(listener, event.object, ctx)) !== false;
      } catch (error) {
        ok = false;
        this.#report(error, listener, ctx);
      }
      if (ok) {
        done.push(listener);
        continue;
      }
      if (this.#options.chain) {
        for (const earlier of done.reverse()) {
          try {
            await earlier.rollback(event.object, ctx);
          } catch (error) {
            this.#report(error, earlier, ctx);
          }
        }
        return;
      }
    }
  }

  #report(error: unknown, listener: EventListener<T>, ctx: ListenerContext<T>): void {
    try {
      void Promise.resolve(listener.error(error, ctx)).catch(() => {});
    } catch {
      /* error handlers must not break anything either */
    }
    try {
      this.#options.onListenerError?.(error, listener as EventListener<unknown>, ctx.event as WatchEvent<unknown>);
    } catch {
      /* nor may the hook */
    }
  }
}
