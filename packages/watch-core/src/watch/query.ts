// The query strings of LIST pages and watch requests, and their Accept headers, built from resolved options.
/** What the requests' query strings are built from (resolved watcher options). */
export interface QueryOptions {
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  /** `undefined`: no `timeoutSeconds` parameter (the server's default, 30–60 min). */
  readonly timeoutSeconds: number | undefined;
  readonly allowWatchBookmarks: boolean;
  readonly pageSize: number;
  /** Ask for `PartialObjectMetadata` instead of full objects. */
  readonly metadataOnly: boolean;
}

function selectors(o: QueryOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (o.labelSelector) q.set('labelSelector', o.labelSelector);
  if (o.fieldSelector) q.set('fieldSelector', o.fieldSelector);
  return q;
}

/**
 * The query of one LIST page. The first page of a sync asks for data not older than
 * `notOlderThan` (cheap, from the watch cache) or, without it, a consistent read; later pages
 * only carry the continue token (the server keeps the snapshot). `unpaginated`: no `limit` —
 * the whole list in one response (after a page without progress; see docs/watching.md, Pacing).
 *
 * @example
 * ```ts
 * listQuery(o, { notOlderThan: '42' }).toString(); // 'limit=500&resourceVersion=42&resourceVersionMatch=NotOlderThan'
 * listQuery(o, { notOlderThan: '42', unpaginated: true }).toString(); // 'resourceVersion=42&resourceVersionMatch=NotOlderThan'
 * ```
 */
export function listQuery(
  o: QueryOptions,
  page: { continueToken?: string | undefined; notOlderThan?: string | undefined; unpaginated?: boolean | undefined },
): URLSearchParams {
  const q = selectors(o);
  if (!page.unpaginated) q.set('limit', String(o.pageSize));
  if (page.continueToken) q.set('continue', page.continueToken);
  else if (page.notOlderThan !== undefined) {
    q.set('resourceVersion', page.notOlderThan);
    q.set('resourceVersionMatch', 'NotOlderThan');
  }
  return q;
}

/**
 * The query of one watch request: resume strictly after `resourceVersion`, or (with
 * `initialEvents`) a WatchList request that first streams the state not older than
 * `resourceVersion` ('' for a consistent read), ended by a bookmark.
 *
 * @example
 * ```ts
 * watchQuery(o, { resourceVersion: '42' }).toString();
 * // 'watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=42'
 * ```
 */
export function watchQuery(
  o: QueryOptions,
  request: { resourceVersion: string | undefined; initialEvents?: boolean },
): URLSearchParams {
  const q = selectors(o);
  q.set('watch', 'true');
  if (o.allowWatchBookmarks || request.initialEvents) q.set('allowWatchBookmarks', 'true');
  if (o.timeoutSeconds !== undefined) q.set('timeoutSeconds', String(o.timeoutSeconds));
  if (request.initialEvents) {
    q.set('sendInitialEvents', 'true');
    q.set('resourceVersionMatch', 'NotOlderThan');
    q.set('resourceVersion', request.resourceVersion ?? '');
  } else if (request.resourceVersion !== undefined) {
    q.set('resourceVersion', request.resourceVersion);
  }
  return q;
}

/** What a metadata-only LIST asks for: each item's metadata only (client-go's metadata informer does the same). */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
/** What a metadata-only watch asks for: each event's object as metadata only. */
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/**
 * The `Accept` header of a LIST page or a watch: `undefined` (plain JSON, the transport's default)
 * unless the watcher asked for metadata only.
 *
 * @example
 * ```ts
 * acceptFor({ metadataOnly: true }, 'watch'); // 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'
 * ```
 */
export function acceptFor(o: { readonly metadataOnly: boolean }, request: 'list' | 'watch'): string | undefined {
  if (!o.metadataOnly) return undefined;
  return request === 'list' ? METADATA_LIST_ACCEPT : METADATA_WATCH_ACCEPT;
}
