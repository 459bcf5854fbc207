// The one "held vs exists" diff and the one tombstone builder of the informer layer.
import type { Tombstone } from '../internal/index.ts';
import { splitKey } from '../watch/index.ts';

/** What the diff reads of an object: its identity and version. */
type Versioned = { metadata?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined };

/**
 * How what a consumer held of one key (`before`) differs from what exists now (`now`):
 * nothing, ADDED, MODIFIED, DELETED, or — another uid under the same name — DELETED then ADDED.
 * The same object, or the same uid at the same (known) resourceVersion, is no change.
 *
 * Used wherever the informer layer turns two views of an object into changes: a `Store` applying an
 * event or a resync, a lagging `Store.events()` iteration catching up, a shared watch's subscriber
 * catching up from the store.
 */
export function changeOf(
  before: object | undefined,
  now: object | undefined,
): 'none' | 'added' | 'modified' | 'deleted' | 'recreated' {
  if (before === now) return 'none';
  if (before === undefined) return 'added';
  if (now === undefined) return 'deleted';
  const b = (before as Versioned).metadata;
  const n = (now as Versioned).metadata;
  if (b?.uid !== n?.uid) return 'recreated';
  if (b?.resourceVersion !== undefined && b.resourceVersion === n?.resourceVersion) return 'none';
  return 'modified';
}

/**
 * A tombstone of the object held under `key`: its kind, name, namespace, uid and resourceVersion —
 * what a subscriber is told of an object that vanished while it was behind.
 */
export function tombstoneOf<T>(info: { apiVersion: string; kind: string }, key: string, held: object): Tombstone<T> {
  const { namespace, name } = splitKey(key);
  const metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string } = { name };
  if (namespace) metadata.namespace = namespace;
  const { uid, resourceVersion } = (held as Versioned).metadata ?? {};
  if (uid) metadata.uid = uid;
  if (resourceVersion) metadata.resourceVersion = resourceVersion;
  return { apiVersion: info.apiVersion, kind: info.kind, metadata } as Tombstone<T>;
}
