import type { KwatchError } from './errors.ts';

/** The types of object events. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One change to one object. `synthetic` is true for events kwatch derived from a LIST or
 * an initial-events stream (the initial state, and the catch-up after a resync) rather
 * than from a change the server reported.
 *
 * Hikaru's names are kept as read-only aliases: `etype` for `type`, `obj` for `object`.
 *
 * @example
 * ```ts
 * for await (const we of new Watcher(Pod).stream()) console.log(we.type, we.object.metadata?.name);
 * ```
 */
export class WatchEvent<T> {
  readonly type: WatchEventType;
  readonly object: T;
  readonly synthetic: boolean;

  constructor(type: WatchEventType, object: T, synthetic = false) {
    this.type = type;
    this.object = object;
    this.synthetic = synthetic;
  }

  /** Hikaru's name for {@link type}. */
  get etype(): WatchEventType {
    return this.type;
  }
  /** Hikaru's name for {@link object}. */
  get obj(): T {
    return this.object;
  }
}

/**
 * Where the stream stands, yielded only with `stream({ markers: true })`:
 * - `SYNCED`: every object that exists has been delivered (after the initial state, and after each resync);
 * - `RESYNC`: the server lost our place (410 Gone); what follows until the next `SYNCED` brings the
 *   consumer's view up to date: ADDED/MODIFIED for new or changed objects, DELETED for vanished ones.
 *
 * @example
 * ```ts
 * for await (const e of watcher.stream({ markers: true })) if (e.type === 'SYNCED') console.log('up to date');
 * ```
 */
export type WatchMarker =
  | { readonly type: 'SYNCED'; readonly initial: boolean; readonly resourceVersion: string | undefined }
  | { readonly type: 'RESYNC'; readonly reason: KwatchError };

/** True for a marker, false for an object event. */
export function isMarker<T>(e: WatchEvent<T> | WatchMarker): e is WatchMarker {
  return !(e instanceof WatchEvent);
}
