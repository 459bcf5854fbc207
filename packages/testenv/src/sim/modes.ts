// The simulated apiserver's misbehaviour modes, switched at any time by setModes() and wellBehaved().
/**
 * A server error mode: every request of the chosen kind fails with `status`
 * (`Retry-After` as a header and as `details.retryAfterSeconds` when given), `times` times or
 * until the mode is switched off.
 *
 * @example
 * ```ts
 * sim.setModes({ errors: { status: 429, retryAfterSeconds: 2, times: 3 } });
 * ```
 */
export interface SimErrorMode {
  readonly status: number;
  readonly retryAfterSeconds?: number;
  /** How many requests fail before the mode switches itself off. Default: all of them. */
  readonly times?: number;
  /** Which requests fail. Default: `'all'`. */
  readonly requests?: 'all' | 'list' | 'watch';
}

/**
 * How the simulated apiserver misbehaves; switch any of them at any time with
 * `sim.setModes({...})`, and back with `sim.wellBehaved()`.
 *
 * @example
 * ```ts
 * sim.setModes({ closeAtOnce: true }); // every watch: 200, then the end, no event
 * sim.setModes({ goneForever: true, goneAs: 'status' }); // every watch: HTTP 410
 * sim.setModes({ listLoop: 'repeatToken' }); // every LIST page: the same objects and continue token
 * sim.wellBehaved();
 * ```
 */
export interface SimModes {
  /** Every new watch answers 200 and ends at once, without an event. */
  readonly closeAtOnce: boolean;
  /** Every new watch answers 410 Gone (WatchList requests included; LISTs still work). */
  readonly goneForever: boolean;
  /** Requests fail with an HTTP error (500, 503, 429, ...). */
  readonly errors: SimErrorMode | undefined;
  /** Watches with `sendInitialEvents=true` answer 422, as with the WatchList feature gate off. */
  readonly watchListUnsupported: boolean;
  /**
   * Open watches, and new ones, go silent for good (half-open connections): no event, no bookmark,
   * no timeout; only the client closing them ends them. Switching it off heals new watches only.
   */
  readonly stall: boolean;
  /** How a 410 Gone for a watch is told: an ERROR event in a 200 stream (as the watch cache does) or the HTTP status. */
  readonly goneAs: 'event' | 'status';
  /**
   * A LIST that never ends (a `continue` loop), whatever `limit` the request asks (none included):
   * - `'repeatToken'`: every page, continuations included, is the first page of the list with the same
   *   continue token;
   * - `'sameObjects'`: every page is the first page of the list with a continue token never given before
   *   (no page brings an object the list has not brought already).
   * The tokens are valid: once the mode is off, continuing with one lists from the start of the snapshot
   * (410 once compacted past it). `undefined`: pagination as the apiserver does it.
   */
  readonly listLoop: 'repeatToken' | 'sameObjects' | undefined;
}

/**
 * The modes of a well-behaved server.
 *
 * @example
 * ```ts
 * sim.setModes({ ...WELL_BEHAVED, goneAs: 'status' });
 * ```
 */
export const WELL_BEHAVED: SimModes = {
  closeAtOnce: false,
  goneForever: false,
  errors: undefined,
  watchListUnsupported: false,
  stall: false,
  goneAs: 'event',
  listLoop: undefined,
};
