// Finalizers: added before a controller acts on an object, run and removed when the object is being deleted.
import type { ReconcileClient } from './readYourWrites.ts';

type Meta = { name?: string; namespace?: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: string };

/**
 * What a finalizer's cleanup is given: the object being deleted (still there, held by the finalizer), a client
 * whose writes the next reconcile sees, and a signal.
 *
 * @example
 * ```ts
 * cleanup: async ({ object, client, signal }) => { await deleteMirror(object, client, signal); }
 * ```
 */
export interface FinalizerContext<T> {
  readonly key: string;
  readonly object: T;
  readonly client: ReconcileClient;
  readonly signal: AbortSignal;
}

/**
 * A finalizer a {@link Controller} manages: it is added to every object before the first reconcile acts on it; when an
 * object is being deleted, `cleanup` runs (again after a failure, with backoff: make it idempotent), then the
 * finalizer is removed and the server deletes the object. `reconcile` is not called for an object being deleted.
 *
 * @example
 * ```ts
 * finalizer: { name: 'example.com/cleanup', cleanup: async ({ object }) => removeExternal(object) }
 * ```
 */
export interface FinalizerOptions<T> {
  /** A qualified name, e.g. `example.com/cleanup`. */
  readonly name: string;
  readonly cleanup: (context: FinalizerContext<T>) => Promise<void> | void;
}

/** The path of one object of a kind. */
export function objectPath(info: { apiVersion: string; plural: string }, namespace: string | undefined, name: string): string {
  const base = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${info.plural}/${encodeURIComponent(name)}`;
}

/**
 * Runs `finalizer` for `object`: `{ proceed: false }` when the object is being deleted (cleanup run and finalizer
 * removed, or not ours); otherwise `{ proceed: true, object }` with the finalizer present (added if it was not).
 * Writes are JSON patches guarded by a `test`: an add at the resourceVersion read (no lost concurrent change), a
 * removal only of the entry that is ours.
 */
export async function applyFinalizer<T>(
  finalizer: FinalizerOptions<T>,
  key: string,
  object: T,
  path: string,
  client: ReconcileClient,
  signal: AbortSignal,
): Promise<{ proceed: false } | { proceed: true; object: T }> {
  const meta = (object as { metadata?: Meta }).metadata ?? {};
  const list = meta.finalizers ?? [];
  const at = list.indexOf(finalizer.name);
  const patch = { method: 'PATCH' as const, path, contentType: 'application/json-patch+json', signal };
  if (meta.deletionTimestamp) {
    if (at < 0) return { proceed: false };
    await finalizer.cleanup({ key, object, client, signal });
    await client.request({
      ...patch,
      body: [
        { op: 'test', path: `/metadata/finalizers/${at}`, value: finalizer.name },
        { op: 'remove', path: `/metadata/finalizers/${at}` },
      ],
    });
    return { proceed: false };
  }
  if (at >= 0) return { proceed: true, object };
  const updated = await client.request<T>({
    ...patch,
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: meta.resourceVersion },
      meta.finalizers
        ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer.name }
        : { op: 'add', path: '/metadata/finalizers', value: [finalizer.name] },
    ],
  });
  return { proceed: true, object: updated };
}
