// Read-your-writes: what a reconcile wrote, and whether the shared cache has seen it yet.
import type { KubeClient, KubeRequest } from '@kwatch/watch-core';

/** One write a reconcile made: the object (resource, namespace, name) and the resourceVersion the server gave it. */
export interface Write {
  /** `group/plural` (`/configmaps` for the core group). */
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly resourceVersion: string;
  /** The write removed the object (a DELETE answered without finalizers left to run). */
  readonly gone: boolean;
}

type Meta = { name?: string; namespace?: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: string };

/**
 * `resource`, `namespace` and `name` of a request path: `/api/v1/namespaces/web/configmaps/a[/status]`,
 * `/apis/apps/v1/deployments` (a collection: no name), … `undefined` for anything else (discovery, `/version`).
 */
export function resourceOfPath(
  path: string,
): { resource: string; namespace: string | undefined; name: string | undefined } | undefined {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name] = rest;
  if (!plural) return undefined;
  return { resource: `${group}/${plural}`, namespace, name };
}

/**
 * Compares two resourceVersions: negative, zero or positive as `a` is older, the same or newer; `undefined` when they
 * cannot be ordered (not both decimal — Kubernetes 1.35+ guarantees they are, older servers' etcd ones are too).
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : 1;
}

/**
 * Whether a cached object reflects `write`: it is at the written resourceVersion or newer (or, for a removal, gone
 * or replaced by a newer one).
 */
export function cacheHolds(write: Write, cached: { metadata?: Meta } | undefined): boolean {
  const rv = cached?.metadata?.resourceVersion;
  if (write.gone)
    return cached === undefined || (rv !== undefined && (compareResourceVersions(rv, write.resourceVersion) ?? -1) > 0);
  if (!rv) return false;
  return (compareResourceVersions(rv, write.resourceVersion) ?? -1) >= 0;
}

/**
 * The client a reconcile writes through: a `KubeClient` that remembers each write's resourceVersion, so that the
 * key's next reconcile can wait until the shared cache has seen it.
 *
 * @example
 * ```ts
 * reconcile: async ({ object, client, signal }) => {
 *   await client.request({ method: 'PATCH', path: `/api/v1/namespaces/web/configmaps/${name}`, body: { data }, signal });
 * } // the next reconcile of this key sees that write
 * ```
 */
export class ReconcileClient {
  readonly #inner: KubeClient;
  readonly #writes: Write[] = [];
  readonly #onWrite: ((write: Write) => void) | undefined;

  /** @internal Made by the controller for each reconcile; `onWrite` is told of each write as it is made. */
  constructor(inner: KubeClient, onWrite?: (write: Write) => void) {
    this.#inner = inner;
    this.#onWrite = onWrite;
  }

  /** Sends a request as {@link KubeClient.request} does; a successful write is remembered. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const result = await this.#inner.request<T>(req);
    const method = req.method ?? 'GET';
    if (method !== 'GET') this.#record(method, req.path, result as { metadata?: Meta; kind?: string } | undefined);
    return result;
  }

  /**
   * Server-side apply of `object` (its `apiVersion`, `kind` and `metadata.name`/`namespace` say where) as
   * `fieldManager`, with `force` (take over conflicting fields) as a controller does for what it owns.
   *
   * @example
   * ```ts
   * await client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data }, { fieldManager: 'mirror', signal });
   * ```
   */
  apply<T = unknown>(
    object: {
      readonly apiVersion: string;
      readonly kind: string;
      readonly metadata: { readonly name: string; readonly namespace?: string | undefined; readonly [field: string]: unknown };
      readonly [field: string]: unknown;
    },
    options: { fieldManager: string; plural: string; signal: AbortSignal; force?: boolean; subresource?: 'status' },
  ): Promise<T> {
    const { apiVersion, metadata } = object;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = metadata.namespace ? `/namespaces/${encodeURIComponent(metadata.namespace)}` : '';
    const sub = options.subresource ? `/${options.subresource}` : '';
    return this.request<T>({
      method: 'PATCH',
      path: `${base}${ns}/${options.plural}/${encodeURIComponent(metadata.name)}${sub}`,
      query: new URLSearchParams({ fieldManager: options.fieldManager, force: String(options.force ?? true) }),
      body: object,
      contentType: 'application/apply-patch+yaml',
      signal: options.signal,
    });
  }

  /** @internal The writes made so far. */
  get writes(): readonly Write[] {
    return this.#writes;
  }

  #record(method: string, path: string, result: { metadata?: Meta; kind?: string } | undefined): void {
    const where = resourceOfPath(path);
    const meta = result?.kind === 'Status' ? undefined : result?.metadata;
    if (!where) return;
    const name = meta?.name ?? where.name;
    const resourceVersion = meta?.resourceVersion;
    if (!name || !resourceVersion) return; // a Status (deleted at once): nothing to order by; see below
    // Gone: a DELETE with no finalizer left to run, or a write that emptied the finalizers of an object being deleted
    // (the server deleted it then and there; its cache never holds the written resourceVersion).
    const gone = !meta?.finalizers?.length && (method === 'DELETE' || meta?.deletionTimestamp !== undefined);
    const write = { resource: where.resource, namespace: meta?.namespace ?? where.namespace, name, resourceVersion, gone };
    this.#writes.push(write);
    this.#onWrite?.(write);
  }
}
