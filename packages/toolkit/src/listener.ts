// EventListener: skafos-style per-event handlers, and the context each handler gets.
import type { KubernetesObject, ObjectMeta } from '@kwatch/models';
import type { Tombstone, WatchEvent } from '@kwatch/watch-core';

/**
 * The per-event context every handler gets: the event, its object's metadata and a state object for the chain. It
 * belongs to one event, so it stays right across an `await` while the same listener handles other objects.
 */
export interface ListenerContext<T> {
  /** The event being handled. */
  readonly event: WatchEvent<T>;
  /** Its object's metadata (a tombstone's too). */
  readonly metadata: ObjectMeta | undefined;
  /** Shared by every listener of this one event (skafos's `ev_state`). */
  readonly state: Record<string, unknown>;
}

/**
 * A listener in the style of skafos: override the handlers you need. Pass an instance to
 * reuse it for every event, or the class to get a fresh instance per event. The event and
 * its metadata come in the handler's `ctx`, never as fields of the instance: an instance
 * handles several objects at once (`concurrency`), so a field set for one object would
 * belong to another after an `await` (skafos set `self.event` and had that race). A handler that throws is
 * reported (to `error` and the dispatcher's `onListenerError`) and never stops the stream
 * or the other listeners; in a chain, returning `false` or throwing rolls back the
 * listeners before it, in reverse order.
 *
 * @example
 * ```ts
 * class Audit extends EventListener<Pod> {
 *   override create(pod: Pod, ctx: ListenerContext<Pod>) { console.log('new pod', ctx.metadata?.name); }
 *   override delete(pod: Pod | Tombstone<Pod>) { console.log('gone', pod.metadata?.name); }
 * }
 * ```
 */
export abstract class EventListener<T = KubernetesObject> {
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
