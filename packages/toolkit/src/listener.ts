import type { KubernetesObject, ObjectMeta } from '@kwatch/models';
import type { Tombstone, WatchEvent } from '@kwatch/watch-core';

/** What every handler of one event shares: the event and a state object for the chain. */
export interface ListenerContext<T> {
  readonly event: WatchEvent<T>;
  /** Shared by every listener of this one event (skafos's `ev_state`). */
  readonly state: Record<string, unknown>;
}

/**
 * A listener in the style of skafos: override the handlers you need. Pass an instance to
 * reuse it for every event, or the class to get a fresh instance per event; either way
 * `event` and `metadata` are set on it before a handler runs. A handler that throws is
 * reported (to `error` and the dispatcher's `onListenerError`) and never stops the stream
 * or the other listeners; in a chain, returning `false` or throwing rolls back the
 * listeners before it, in reverse order.
 *
 * @example
 * ```ts
 * class Audit extends EventListener<Pod> {
 *   override create(pod: Pod) { console.log('new pod', this.metadata?.name); }
 *   override delete(pod: Pod | Tombstone<Pod>) { console.log('gone', pod.metadata?.name); }
 * }
 * ```
 */
export abstract class EventListener<T = KubernetesObject> {
  /** The event being handled. */
  event: WatchEvent<T> | undefined;
  /** Its object's metadata. */
  metadata: ObjectMeta | undefined;

  /** An object was added. */
  create(_object: T, _ctx: ListenerContext<T>): unknown {
    return undefined;
  }
  /** An object changed. */
  update(_object: T, _ctx: ListenerContext<T>): unknown {
    return undefined;
  }
  /**
   * An object was deleted: its final state, or — when it vanished while the watch was away (a
   * resync found it gone) — a {@link Tombstone} with its metadata only (`ctx.event.tombstone`).
   */
  delete(_object: T | Tombstone<T>, _ctx: ListenerContext<T>): unknown {
    return undefined;
  }
  /** A handler of this listener failed (also reachable, unlike in skafos). */
  error(_error: unknown, _ctx: ListenerContext<T>): unknown {
    return undefined;
  }
  /** In a chain: undo what this listener did for the event, because a later one failed. */
  rollback(_object: T | Tombstone<T>, _ctx: ListenerContext<T>): unknown {
    return undefined;
  }
}

/** A listener as given to a dispatcher: an instance (reused) or a class (one instance per event). */
export type ListenerSpec<T> = EventListener<T> | (new () => EventListener<T>);
