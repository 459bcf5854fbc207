// ResourceInfo: how one resource is served (group, version, plural, scope), and its collection path.
/**
 * How one Kubernetes resource is served: the facts a watcher needs to build its URL and to
 * decide whether a watch is allowed. Built-in resources come from the generated registry;
 * custom resources from {@link defineResource} or {@link resourceFromCRD}.
 *
 * @example
 * ```ts
 * const info: ResourceInfo = describeKind(Pod);
 * info.plural; // 'pods'
 * info.watchNamespaced; // true
 * ```
 */
export interface ResourceInfo {
  /** `v1`, `apps/v1`, `stable.example.com/v1`. */
  readonly apiVersion: string;
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  /** The kind of the objects, e.g. `Pod` (never the list kind). */
  readonly kind: string;
  /** The kind of the list, e.g. `PodList`. */
  readonly listKind: string;
  /** The URL segment, e.g. `pods`. */
  readonly plural: string;
  /** True when objects live in namespaces. */
  readonly namespaced: boolean;
  /** Can be watched without a namespace (across all namespaces, for namespaced kinds). */
  readonly watchAll: boolean;
  /** Can be watched within one namespace. */
  readonly watchNamespaced: boolean;
}

/** The URL path of a resource's collection, in one namespace or (namespace undefined) across all. */
export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${info.plural}` : `${base}/${info.plural}`;
}
