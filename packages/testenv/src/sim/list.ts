// LIST for the simulated apiserver: pagination over consistent snapshots, and hostile continue loops.
import type { History, StoredObject } from './history.ts';
import { resourceId, type SimResource } from './resources.ts';
import { ObjectFilter } from './selectors.ts';
import { reasonFor, type SimStatus, statusOf } from './status.ts';

/** A LIST response body, as the apiserver sends it (items without `apiVersion`/`kind`). */
export interface SimListPage {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: Array<Omit<StoredObject, 'apiVersion' | 'kind'>>;
}

/** What a continue token holds: the snapshot's resourceVersion and the last key returned (`loop`: see {@link loopingPage}). */
interface ContinueToken {
  readonly rv: number;
  readonly after: string;
  readonly r: string;
  readonly loop?: number;
}

const fail = (code: number, message: string): { error: SimStatus } => ({ error: statusOf(code, reasonFor(code), message) });

/**
 * Answers one LIST request: `limit`/`continue` pagination over a consistent snapshot;
 * `resourceVersion` with `resourceVersionMatch` `NotOlderThan` (or none: the latest state,
 * which is never older) or `Exact` (the state at that version); `''`/unset/`'0'`: the latest.
 * A continue token or an exact version older than the compaction answers 410 Gone.
 *
 * @example
 * ```ts
 * const r = answerList(history, resource, 'ns', new URLSearchParams({ limit: '2' }));
 * if ('error' in r) throw r.error; else r.page.metadata.continue;
 * ```
 */
export function answerList(
  history: History,
  resource: SimResource,
  namespace: string | undefined,
  query: URLSearchParams,
): { page: SimListPage } | { error: SimStatus } {
  let filter: ObjectFilter;
  try {
    filter = new ObjectFilter(namespace, query.get('labelSelector'), query.get('fieldSelector'));
  } catch (err) {
    return fail(400, (err as Error).message);
  }
  const rvParam = query.get('resourceVersion') ?? '';
  const match = query.get('resourceVersionMatch') ?? '';
  const cont = query.get('continue') ?? '';
  const limitParam = query.get('limit');
  const limit = limitParam === null || limitParam === '' ? 0 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 0) return fail(400, `invalid limit: ${limitParam}`);
  if (match !== '' && match !== 'NotOlderThan' && match !== 'Exact') {
    return fail(400, `unsupported resourceVersionMatch: ${match}`);
  }
  if (match !== '' && rvParam === '') return fail(400, 'resourceVersionMatch is forbidden unless resourceVersion is provided');

  let snapshot: number;
  let after = '';
  if (cont !== '') {
    if (rvParam !== '' && rvParam !== '0') return fail(400, 'specifying resource version is not allowed when using continue');
    const token = decodeToken(cont);
    if (!token || token.r !== resourceId(resource)) return fail(400, 'continue key is not valid');
    if (token.rv < history.compacted) {
      return fail(
        410,
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    }
    snapshot = token.rv;
    after = token.after;
  } else if (rvParam === '' || rvParam === '0') {
    snapshot = history.resourceVersion;
  } else {
    const rv = Number(rvParam);
    if (!/^\d+$/.test(rvParam)) return fail(400, `invalid resource version: ${rvParam}`);
    if (rv > history.resourceVersion) return fail(504, `Too large resource version: ${rv}, current: ${history.resourceVersion}`);
    if (match === 'Exact') {
      if (rv < history.compacted) return fail(410, `too old resource version: ${rv} (${history.compacted})`);
      snapshot = rv;
    } else {
      snapshot = history.resourceVersion; // not older than rv: the latest state is the freshest answer
    }
  }

  const keyed = history
    .at(resourceId(resource), snapshot)
    .filter((o) => filter.matches(o))
    .map((o) => ({ key: keyOf(o), o }))
    .filter(({ key }) => key > after);
  const taken = limit > 0 ? keyed.slice(0, limit) : keyed;
  const page: SimListPage = {
    kind: `${resource.kind}List`,
    apiVersion: resource.apiVersion,
    metadata: { resourceVersion: String(snapshot) },
    items: taken.map(({ o }) => {
      const { apiVersion: _a, kind: _k, ...item } = structuredClone(o);
      return item;
    }),
  };
  if (taken.length < keyed.length) {
    const last = taken[taken.length - 1]!;
    page.metadata.continue = encodeToken({ rv: snapshot, after: last.key, r: resourceId(resource) });
    page.metadata.remainingItemCount = keyed.length - taken.length;
  }
  return { page };
}

/**
 * A hostile server's page of a LIST that never ends: the first page of the list (`limit` objects, all
 * without one) at the continue token's snapshot (or the latest), with a continue token that starts the
 * list over — the same one every time (`loop` undefined), or one never given before (`loop`: a counter).
 * The answer to the request as the apiserver would give it decides the errors (400, 410, …).
 *
 * @example
 * ```ts
 * const r = loopingPage(history, resource, 'ns', query, 7); // 'sameObjects': token number 7
 * ```
 */
export function loopingPage(
  history: History,
  resource: SimResource,
  namespace: string | undefined,
  query: URLSearchParams,
  loop: number | undefined,
): { page: SimListPage } | { error: SimStatus } {
  const cont = query.get('continue') ?? '';
  const fresh = new URLSearchParams(query);
  fresh.delete('continue');
  if (cont !== '') {
    // The token's own checks (valid, not compacted), then its snapshot's first page.
    const checked = answerList(history, resource, namespace, query);
    if ('error' in checked) return checked;
    fresh.set('resourceVersion', String(decodeToken(cont)?.rv ?? history.resourceVersion));
    fresh.set('resourceVersionMatch', 'Exact');
  }
  const answer = answerList(history, resource, namespace, fresh);
  if ('error' in answer) return answer;
  const { page } = answer;
  const rv = Number(page.metadata.resourceVersion);
  page.metadata.continue = encodeToken({ rv, after: '', r: resourceId(resource), ...(loop !== undefined && { loop }) });
  page.metadata.remainingItemCount = 1;
  return { page };
}

/** The key objects are stored and paginated by: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(o: { metadata: { name: string; namespace?: string | undefined } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function encodeToken(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): ContinueToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof t.rv === 'number' && typeof t.after === 'string' && typeof t.r === 'string') {
      return { rv: t.rv, after: t.after, r: t.r, ...(typeof t.loop === 'number' && { loop: t.loop }) };
    }
  } catch {
    /* not a token */
  }
  return undefined;
}
