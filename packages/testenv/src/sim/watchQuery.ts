// A simulated watch request's parameters, checked as the apiserver does, and where the watch starts.
import { ObjectFilter } from './selectors.ts';
import { type SimStatus, statusOf } from './status.ts';

/** A watch request's parameters, checked. */
export interface WatchQuery {
  /** Start at the latest resourceVersion (`resourceVersion` unset, `''` or `'0'`, or a WatchList). */
  readonly fromNow: boolean;
  /** The resourceVersion to send changes after, when not {@link fromNow}. */
  readonly rv: number;
  /** Send ADDED for every current object first. */
  readonly initialEvents: boolean;
  /** A WatchList: end the initial events with an annotated BOOKMARK. */
  readonly watchList: boolean;
  readonly bookmarks: boolean;
  /** `timeoutSeconds` in ms, when given. */
  readonly timeoutMs: number | undefined;
  readonly filter: ObjectFilter;
}

/**
 * Checks a watch request as the apiserver does and says where it starts:
 * - `sendInitialEvents=true` needs `resourceVersionMatch=NotOlderThan` and `allowWatchBookmarks=true` (else 422),
 *   and is refused (422) when `watchListSupported` is false; it starts with the current state, then a BOOKMARK
 *   annotated `k8s.io/initial-events-end`;
 * - `resourceVersionMatch` without `sendInitialEvents` is refused (422);
 * - `resourceVersion` unset, `''` or `'0'`: ADDED for the current state (unless `sendInitialEvents=false`), then changes;
 * - `resourceVersion` N: the changes strictly after N.
 *
 * @example
 * ```ts
 * const r = parseWatchQuery(new URLSearchParams({ watch: 'true', resourceVersion: '5' }), undefined, true);
 * if ('error' in r) throw r.error; else r.query.rv; // 5
 * ```
 */
export function parseWatchQuery(
  query: URLSearchParams,
  namespace: string | undefined,
  watchListSupported: boolean,
): { query: WatchQuery } | { error: SimStatus } {
  const sendInitial = query.get('sendInitialEvents');
  const match = query.get('resourceVersionMatch') ?? '';
  const rvParam = query.get('resourceVersion') ?? '';
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const invalid = (message: string) => ({ error: statusOf(422, 'Invalid', message) });
  if (sendInitial === 'true') {
    if (!watchListSupported)
      return invalid('sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled');
    if (match !== 'NotOlderThan') return invalid('sendInitialEvents requires resourceVersionMatch=NotOlderThan');
    if (!bookmarks) return invalid('sendInitialEvents requires allowWatchBookmarks=true');
  } else if (match !== '') {
    return invalid('resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
  }
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) {
    return { error: statusOf(400, 'BadRequest', `invalid resource version: ${rvParam}`) };
  }
  let filter: ObjectFilter;
  try {
    filter = new ObjectFilter(namespace, query.get('labelSelector'), query.get('fieldSelector'));
  } catch (err) {
    return { error: statusOf(400, 'BadRequest', (err as Error).message) };
  }
  const rv = Number(rvParam || 0);
  const watchList = sendInitial === 'true';
  const fromNow = watchList || rv === 0;
  const timeoutSeconds = Number(query.get('timeoutSeconds'));
  return {
    query: {
      fromNow,
      rv,
      initialEvents: fromNow && sendInitial !== 'false',
      watchList,
      bookmarks,
      timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined,
      filter,
    },
  };
}
