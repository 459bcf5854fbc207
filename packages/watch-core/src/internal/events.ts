// The event model: WatchEvent, tombstones, the RESYNC and SYNCED markers, and how to tell them apart.
import type { KwatchError } from './errors.ts';

/** The types of object events. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * What kwatch knows of an object that vanished while it was not watching (found by a resync
 * after 410 Gone, or by a new stream's sync): its identity and last known resourceVersion, never
 * its content — kwatch keeps no copies of objects. client-go calls this `DeletedFinalStateUnknown`.
 *
 * @example
 * ```ts
 * if (we.tombstone) console.log('gone while away:', we.object.metadata.name, we.object.metadata.uid);
 * ```
 */
export interface Tombstone<T = unknown> {
  readonly apiVersion: T extends { apiVersion?: infer V } ? Exclude<V, undefined> : string;
  readonly kind: T extends { kind?: infer K } ? Exclude<K, undefined> : string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}

/** Hikaru's names for an event's fields, on every event. */
interface HikaruNames<Type, O> {
  /** Hikaru's name for `type`. */
  readonly etype: Type;
  /** Hikaru's name for `object`. */
  readonly obj: O;
}

/**
 * An event carrying the object as the server sent it: ADDED, MODIFIED, or a DELETED the server
 * reported (with the object's final state).
 */
export interface ObjectEvent<T> extends HikaruNames<WatchEventType, T> {
  readonly type: WatchEventType;
  readonly object: T;
  /** True when kwatch derived the event from a LIST or an initial-events stream. */
  readonly synthetic: boolean;
  /** False: `object` is the whole object. */
  readonly tombstone: false;
}

/** A DELETED event for an object that vanished while kwatch was not watching: `object` holds metadata only. */
export interface TombstoneEvent<T> extends HikaruNames<'DELETED', Tombstone<T>> {
  readonly type: 'DELETED';
  readonly object: Tombstone<T>;
  readonly synthetic: true;
  /** True: `object` is a {@link Tombstone}, not the whole object. */
  readonly tombstone: true;
}

/**
 * One change to one object. `synthetic` is true for events kwatch derived from a LIST or an
 * initial-events stream (the initial state, and the catch-up after a resync) rather than from
 * a change the server reported.
 *
 * A DELETED found by a resync carries a {@link Tombstone} (`tombstone: true`): the object's
 * identity, not its content. Check `tombstone` (or `type !== 'DELETED'`) before reading fields
 * other than `metadata`; TypeScript enforces it.
 *
 * Hikaru's names are kept as read-only aliases: `etype` for `type`, `obj` for `object`.
 *
 * @example
 * ```ts
 * for await (const we of new Watcher(Pod).stream()) {
 *   console.log(we.type, we.object.metadata?.name); // every event has metadata
 *   if (!we.tombstone) console.log(we.object.status?.phase); // the whole Pod
 * }
 * ```
 */
export type WatchEvent<T> = ObjectEvent<T> | TombstoneEvent<T>;

/** The runtime class behind every {@link WatchEvent}: `instanceof WatchEvent` tells events from markers. */
class Event<T> {
  readonly type: WatchEventType;
  readonly object: T;
  readonly synthetic: boolean;
  readonly tombstone: boolean;

  constructor(type: WatchEventType, object: T, synthetic = false, tombstone = false) {
    this.type = type;
    this.object = object;
    this.synthetic = synthetic;
    this.tombstone = tombstone;
  }

  get etype(): WatchEventType {
    return this.type;
  }
  get obj(): T {
    return this.object;
  }
}

/** The constructor of {@link WatchEvent}s. */
export interface WatchEventConstructor {
  new <T>(type: WatchEventType, object: T, synthetic?: boolean): ObjectEvent<T>;
  readonly prototype: WatchEvent<unknown>;
}

/**
 * Makes object events (tests and adapters); `instanceof WatchEvent` is true for every event.
 *
 * @example
 * ```ts
 * const e = new WatchEvent('ADDED', pod); // ObjectEvent<Pod>
 * ```
 */
export const WatchEvent = Event as unknown as WatchEventConstructor;

/** The runtime class of events and tombstone events (internal). */
export { Event as EventClass };

/** Builds a tombstone event (internal). */
export function tombstoneEvent<T>(object: Tombstone<T>): TombstoneEvent<T> {
  return new Event('DELETED', object, true, true) as unknown as TombstoneEvent<T>;
}

/**
 * Where the stream stands, yielded only with `stream({ markers: true })`:
 * - `SYNCED`: every object that exists has been delivered (after the initial state, and after each resync);
 * - `RESYNC`: the server lost our place (410 Gone); what follows until the next `SYNCED` brings the
 *   consumer's view up to date: ADDED/MODIFIED for new or changed objects, DELETED tombstones for vanished
 *   ones. A stream that starts while a resync is unfinished (the consumer left in the middle of one)
 *   announces it again; the events already delivered are not repeated.
 *
 * @example
 * ```ts
 * for await (const e of watcher.stream({ markers: true })) if (e.type === 'SYNCED') console.log('up to date');
 * ```
 */
export type WatchMarker =
  | { readonly type: 'SYNCED'; readonly initial: boolean; readonly resourceVersion: string | undefined }
  | { readonly type: 'RESYNC'; readonly reason: KwatchError };

/**
 * True for a marker, false for an object event.
 *
 * @example
 * ```ts
 * for await (const e of watcher.stream({ markers: true })) if (!isMarker(e)) console.log(e.object.metadata?.name);
 * ```
 */
export function isMarker<T>(e: WatchEvent<T> | WatchMarker): e is WatchMarker {
  return !(e instanceof Event);
}
