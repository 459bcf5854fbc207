// The lifecycle hooks a watcher calls as its consumer reaches each point of the stream.
import type { KwatchError as KwatchErrorType } from '../internal/index.ts';

/**
 * Lifecycle hooks of a watcher; each is optional and must not throw (a throw is ignored).
 * A hook is called when the consumer reaches its place in the stream: after every event that
 * arrived before what it reports has been taken.
 *
 * @example
 * ```ts
 * new Watcher(Pod, { hooks: { reconnecting: ({ error, delayMs }) => console.warn(error.code, delayMs) } });
 * ```
 */
export interface WatcherHooks {
  /** A watch request was answered 200 and is streaming. */
  connected?: (info: { resourceVersion: string | undefined; reconnects: number }) => void;
  /**
   * A failure the watcher recovers from by itself: it waits `delayMs`, then tries again.
   * `consecutiveErrors` counts failures since the last live event (a watcher that fails on every
   * request shows here and in `health()`).
   */
  reconnecting?: (info: { error: KwatchErrorType; delayMs: number; consecutiveErrors: number }) => void;
  /** A (re)list finished: `initial` for the first one, otherwise a resync after 410 Gone. */
  relisted?: (info: {
    initial: boolean;
    objects: number;
    resourceVersion: string | undefined;
    via: 'list' | 'watch-list';
  }) => void;
  /** A BOOKMARK arrived (the resourceVersion advanced without a change). */
  bookmark?: (info: { resourceVersion: string }) => void;
  /** Any error, retryable or not, before it is handled. */
  error?: (error: KwatchErrorType) => void;
}
