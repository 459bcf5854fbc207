// Options of SimulatedApiServer, and the record of each request it received.
import type { ChunkPolicy } from './body.ts';
import type { SimClock } from './clock.ts';
import type { SimResource } from './resources.ts';
import type { SimErrorFactory } from './status.ts';

/**
 * Options of `new SimulatedApiServer(options)`.
 *
 * @example
 * ```ts
 * new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, chunking: { eventsPerChunk: 3 }, bookmarkIntervalMs: 5_000 });
 * ```
 */
export interface SimulatedApiServerOptions {
  /** The clock of timeouts, bookmarks and request times. Default: a new `ManualClock`. */
  readonly clock?: SimClock;
  /** Builds the error a refused request throws; pass kwatch's `apiErrorFrom`. Default: `defaultErrorFactory` (a `SimHttpError`). */
  readonly errorFactory?: SimErrorFactory;
  /** The resources served. Default: `DEFAULT_SIM_RESOURCES`. */
  readonly resources?: readonly SimResource[];
  /** How watch responses are cut into chunks. Default: everything ready in one chunk. */
  readonly chunking?: ChunkPolicy;
  /** A watch with `allowWatchBookmarks` gets a BOOKMARK this often when the resourceVersion moved. Default: `60000`. */
  readonly bookmarkIntervalMs?: number;
  /** The watch timeout when the request gives no `timeoutSeconds`. Default: `1800`. */
  readonly defaultWatchTimeoutSeconds?: number;
  /**
   * Requests answered at one instant of simulated time before the server stops answering (requests
   * hang until aborted, and `sim.runaway` says when). A client that retries
   * without waiting would otherwise spin on microtasks and never let the test run again. Default: `1000`.
   */
  readonly runawayLimit?: number;
  /**
   * When closing a watch (the client's `close()`, or its abort signal) rejects the read in progress:
   * `'turn'`, one event-loop turn later, as a real socket teardown (a client must not rely on it
   * being synchronous); `'sync'`, at once. Default: `'turn'`.
   */
  readonly closeLatency?: 'sync' | 'turn';
  /** The resourceVersion of the empty store. Default: `1`. */
  readonly firstResourceVersion?: number;
}

/**
 * One request the server received, with the simulated time and how it was answered
 * (`status` 200 for a watch that then sent an ERROR event; `note` says so).
 *
 * @example
 * ```ts
 * const watches = sim.requests.filter((r) => r.kind === 'watch' && r.at >= since).length;
 * ```
 */
export interface SimRequest {
  readonly at: number;
  readonly kind: 'list' | 'watch';
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  status: number;
  note?: string;
  /** A LIST answered: the keys (`namespace/name`) of the page's items and its continue token, if any. */
  page?: { readonly items: readonly string[]; readonly continue?: string };
}
