// Objects of metadata-only watches (PartialObjectMetadata), and the types that mark such kinds.
import type { ObjectMeta } from '@kwatch/models';

/**
 * An object of a metadata-only watch (`metadataOnly: true`): the kind and apiVersion of the
 * watched resource and its full `metadata` (name, namespace, labels, annotations, owners,
 * resourceVersion, …), without spec or status — client-go's `PartialObjectMetadata`.
 *
 * @example
 * ```ts
 * for await (const we of new Watcher(Pod, { metadataOnly: true }).stream()) {
 *   we.object.metadata.labels; // PartialObjectMetadata: no spec, no status
 * }
 * ```
 */
export interface PartialObjectMetadata {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** Makes a decoded metadata-only object a {@link PartialObjectMetadata} of the watched resource (in place). */
export function asPartialObjectMetadata<T>(raw: Record<string, unknown>, kind: string, apiVersion: string): T {
  raw.kind = kind;
  raw.apiVersion = apiVersion;
  raw.metadata ??= {};
  return raw as T;
}

declare const metadataOnlyBrand: unique symbol;
/** The kind `K` watched metadata-only (a type only: how a multiplexer tells its events apart). */
export type MetadataOnlyKind<K> = K & { readonly [metadataOnlyBrand]: true };
/** `K`, or `MetadataOnlyKind<K>` when `T` (a watcher's objects) is exactly {@link PartialObjectMetadata} (not `any`). */
export type KindWithObjects<K, T> = 0 extends 1 & T
  ? K
  : [T] extends [PartialObjectMetadata]
    ? [PartialObjectMetadata] extends [T]
      ? MetadataOnlyKind<K>
      : K
    : K;
