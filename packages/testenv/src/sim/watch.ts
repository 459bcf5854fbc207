// One open simulated watch: the events and bookmarks it sends, its timeout, and how it ends.
import { type ChunkPolicy, SimStreamBody } from './body.ts';
import type { SimClock } from './clock.ts';
import type { HistoryEntry, StoredObject } from './history.ts';
import type { SimResource } from './resources.ts';
import type { ObjectFilter } from './selectors.ts';
import type { SimStatus } from './status.ts';

/** The annotation of the BOOKMARK that ends a WatchList's initial events. */
export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** What a {@link WatchSession} needs from the server. */
export interface WatchSessionInit {
  readonly resource: SimResource;
  readonly filter: ObjectFilter;
  readonly clock: SimClock;
  readonly chunking: () => ChunkPolicy;
  /** The resourceVersion the watch starts from (events after it are sent). */
  readonly startRv: number;
  readonly bookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  readonly timeoutMs: number;
  /** The latest resourceVersion of the whole store (bookmarks carry it). */
  readonly latestRv: () => number;
  /** See {@link SimStreamBody}'s `closeLatency`. */
  readonly closeLatency: 'sync' | 'turn';
}

/**
 * One open watch: its response body, what it sends (events of its resource that pass its
 * filter, bookmarks, an ERROR), its server-side timeout and its bookmark timer. The server
 * feeds it every change; it frees itself (timers, registration) when the body closes.
 *
 * @example
 * ```ts
 * const session = new WatchSession(init);
 * session.send('ADDED', object);
 * session.bookmark(true); // the end of the initial events
 * ```
 */
export class WatchSession {
  readonly body: SimStreamBody;
  readonly #init: WatchSessionInit;
  #lastRv: number;
  #timeout: unknown;
  #bookmarkTimer: unknown;

  constructor(init: WatchSessionInit) {
    this.#init = init;
    this.#lastRv = init.startRv;
    this.body = new SimStreamBody(init.chunking, init.closeLatency);
    const { clock } = init;
    this.#timeout = clock.setTimeout(() => {
      this.#timeout = undefined;
      this.end();
    }, init.timeoutMs);
    if (init.bookmarks) this.#armBookmark();
    this.body.onClose(() => this.#clearTimers());
  }

  /** The resource this watch is on. */
  get resource(): SimResource {
    return this.#init.resource;
  }

  /** True until the body is closed (by the client, or after the client read its end). */
  get open(): boolean {
    return !this.body.closed;
  }

  /** The last resourceVersion this watch sent (event or bookmark). */
  get lastResourceVersion(): number {
    return this.#lastRv;
  }

  /** Sends one change if it concerns this watch. */
  deliver(entry: HistoryEntry): void {
    if (entry.resource !== `${this.#init.resource.apiVersion}/${this.#init.resource.plural}`) return;
    const matchesNow = this.#init.filter.matches(entry.object);
    const matchedBefore = entry.prev !== undefined && this.#init.filter.matches(entry.prev);
    if (entry.type === 'MODIFIED' && matchesNow !== matchedBefore) {
      // An object entering or leaving the selection is ADDED or DELETED for this watch, as the apiserver does.
      this.send(matchesNow ? 'ADDED' : 'DELETED', entry.object);
    } else if (matchesNow) {
      this.send(entry.type, entry.object);
    }
  }

  /** Writes an object event. */
  send(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: StoredObject): void {
    this.#lastRv = Math.max(this.#lastRv, Number(object.metadata.resourceVersion));
    this.body.write(`${JSON.stringify({ type, object })}\n`);
  }

  /**
   * Writes a BOOKMARK at the latest resourceVersion; `initialEventsEnd` annotates it as the end of
   * a WatchList's initial events. Without that flag, nothing is sent unless the version moved on.
   */
  bookmark(initialEventsEnd = false): void {
    const rv = this.#init.latestRv();
    if (!initialEventsEnd && rv <= this.#lastRv) return;
    this.#lastRv = Math.max(this.#lastRv, rv);
    const { apiVersion, kind } = this.#init.resource;
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (initialEventsEnd) metadata.annotations = { [INITIAL_EVENTS_END]: 'true' };
    this.body.write(`${JSON.stringify({ type: 'BOOKMARK', object: { apiVersion, kind, metadata } })}\n`);
  }

  /** Writes an ERROR event with `status` and ends the watch (as the apiserver does for 410 Gone). */
  fail(status: SimStatus): void {
    this.body.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    this.end();
  }

  /** Ends the watch cleanly once the client has read what was written. */
  end(): void {
    this.#clearTimers();
    this.body.end();
  }

  /** The connection goes silent for good; only the client closing it ends it. */
  stall(): void {
    this.#clearTimers();
    this.body.stall();
  }

  #armBookmark(): void {
    this.#bookmarkTimer = this.#init.clock.setTimeout(() => {
      this.#bookmarkTimer = undefined;
      if (!this.open || this.body.stalled) return;
      this.bookmark();
      this.#armBookmark();
    }, this.#init.bookmarkIntervalMs);
  }

  #clearTimers(): void {
    if (this.#timeout !== undefined) this.#init.clock.clearTimeout(this.#timeout);
    if (this.#bookmarkTimer !== undefined) this.#init.clock.clearTimeout(this.#bookmarkTimer);
    this.#timeout = undefined;
    this.#bookmarkTimer = undefined;
  }
}
