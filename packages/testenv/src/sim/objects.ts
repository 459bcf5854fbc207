// The objects the simulator stores on create and update: identity, apiVersion and kind, resourceVersion.
import type { StoredObject } from './history.ts';
import type { SimResource } from './resources.ts';

/** An object to create: `metadata.name` (and `metadata.namespace` for namespaced resources) at least. */
export type NewObject = { metadata: { name: string; namespace?: string; [field: string]: unknown }; [field: string]: unknown };

/** A change to an object: fields merged into it, or a function that edits a copy. */
export type ObjectChange = Record<string, unknown> | ((object: StoredObject) => void);

/**
 * The object a create stores: a copy of `object` with the resource's `apiVersion`/`kind`,
 * a uid, a creation timestamp and the resourceVersion `rv`.
 *
 * @example
 * ```ts
 * newObject(configmaps, { metadata: { namespace: 'ns', name: 'a' } }, 'uid-1', 7, Date.now());
 * ```
 */
export function newObject(r: SimResource, object: NewObject, uid: string, rv: number, now: number): StoredObject {
  const stored = structuredClone({ apiVersion: r.apiVersion, kind: r.kind, ...object }) as StoredObject;
  stored.apiVersion = r.apiVersion;
  stored.kind = r.kind;
  stored.metadata.uid = uid;
  stored.metadata.creationTimestamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  stored.metadata.resourceVersion = String(rv);
  if (r.namespaced === false) delete stored.metadata.namespace;
  return stored;
}

/**
 * The object an update stores: `current` with `change` applied, its identity (name,
 * namespace, uid, creation time, apiVersion, kind) kept and the resourceVersion `rv`.
 *
 * @example
 * ```ts
 * changedObject(current, { data: { v: '2' } }, 8);
 * changedObject(current, (o) => { o.metadata.labels = { app: 'web' }; }, 9);
 * ```
 */
export function changedObject(current: StoredObject, change: ObjectChange, rv: number): StoredObject {
  let next = structuredClone(current);
  if (typeof change === 'function') change(next);
  else {
    const copy = structuredClone(change);
    next = { ...next, ...copy, metadata: { ...next.metadata, ...((copy.metadata as object | undefined) ?? {}) } } as StoredObject;
  }
  next.apiVersion = current.apiVersion;
  next.kind = current.kind;
  next.metadata = {
    ...next.metadata,
    name: current.metadata.name,
    uid: current.metadata.uid,
    creationTimestamp: current.metadata.creationTimestamp,
    resourceVersion: String(rv),
  };
  if (current.metadata.namespace === undefined) delete next.metadata.namespace;
  else next.metadata.namespace = current.metadata.namespace;
  return next;
}
