// From a kind to how it is served: describeKind(), and watchTarget() that checks it can be watched.
import { isResourceDescriptor, type ResourceDescriptor } from './descriptor.ts';
import { KindError, KwatchError } from './errors.ts';
import { BUILTIN_RESOURCES, REGISTRY_KUBERNETES_VERSION } from './generated/registry.ts';
import type { CheckWatchable, KubernetesKind, NamespaceOption, WatchedObject } from './kinds.ts';
import type { ResourceInfo } from './resource.ts';

let index: Map<string, ResourceInfo> | undefined;
/** `apiVersion/Kind` and `apiVersion/ListKind` to the resource, built on first use. */
function builtinIndex(): Map<string, ResourceInfo> {
  if (!index) {
    index = new Map();
    for (const r of BUILTIN_RESOURCES) {
      index.set(`${r.apiVersion}/${r.kind}`, r);
      if (r.listKind) index.set(`${r.apiVersion}/${r.listKind}`, r);
    }
  }
  return index;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return `object ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

/** True for a value that names a kind (a model class or a descriptor), whether or not it can be watched. */
export function isKubernetesKind(value: unknown): value is KubernetesKind {
  if ((typeof value !== 'function' && typeof value !== 'object') || value === null) return false;
  const v = value as { apiVersion?: unknown; kind?: unknown };
  return typeof v.apiVersion === 'string' && v.apiVersion !== '' && typeof v.kind === 'string' && v.kind !== '';
}

/**
 * How a kind is served. A list class gives its item's resource. Throws a {@link KindError}
 * `NOT_A_KIND` for a value that is not a kind, and `NOT_WATCHABLE` for a kind Kubernetes
 * 1.36 does not serve.
 *
 * @example
 * ```ts
 * describeKind(PodList).plural; // 'pods'
 * ```
 */
export function describeKind(kind: unknown): ResourceInfo {
  if (isResourceDescriptor(kind)) return kind.info;
  if (!isKubernetesKind(kind)) {
    throw new KindError(
      'NOT_A_KIND',
      `Expected a Kubernetes kind (a model class such as Pod, or a resource from defineResource()), got ${describeValue(kind)}`,
    );
  }
  const info = builtinIndex().get(`${kind.apiVersion}/${kind.kind}`);
  if (!info) {
    throw new KindError(
      'NOT_WATCHABLE',
      `${kind.kind} has no watcher support: ${kind.apiVersion} ${kind.kind} is not served by Kubernetes ${REGISTRY_KUBERNETES_VERSION}` +
        ' (for a custom resource, use defineResource() or resourceFromCRD())',
    );
  }
  return info;
}

/** Options of {@link watchTarget}. */
export interface WatchTargetOptions<K> {
  /**
   * Watch within this namespace. `undefined` and `''` both mean all namespaces (for a
   * cluster-scoped kind: the whole cluster), as `metav1.NamespaceAll` does in client-go.
   * Default: `undefined`.
   */
  readonly namespace?: NamespaceOption<K> | undefined;
}

/**
 * A checked watch target: the resource, the namespace (undefined for all), and, in the
 * type, the object type of its events.
 */
export interface WatchTarget<T> {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  /** The value the target was made from. */
  readonly kind: KubernetesKind;
  /** The descriptor's schema, when it has one. */
  readonly schema: ResourceDescriptor<T>['schema'];
  /** Type-only: the object type. */
  readonly __object?: T;
}

/**
 * Checks that `kind` can be watched — within `namespace` when one is given — at compile
 * time (through the parameter types) and again at run time, with Hikaru's messages:
 * "Node has no namespaced watcher support", "SelfSubjectRulesReview has no watcher support".
 *
 * @example
 * ```ts
 * const target = watchTarget(Pod, { namespace: 'web' }); // WatchTarget<Pod>
 * watchTarget(Node, { namespace: 'web' }); // compile error, and KindError at run time
 * ```
 */
export function watchTarget<K extends KubernetesKind>(
  kind: K & CheckWatchable<K>,
  options: WatchTargetOptions<K> = {},
): WatchTarget<WatchedObject<K>> {
  const info = describeKind(kind);
  const namespace: unknown = options.namespace;
  if (namespace !== undefined && typeof namespace !== 'string') {
    throw new KwatchError('INVALID_OPTION', `Expected \`namespace\` to be a string, got ${describeValue(namespace)}`);
  }
  const name = (kind as KubernetesKind).kind;
  if (!info.watchAll && !info.watchNamespaced) throw new KindError('NOT_WATCHABLE', `${name} has no watcher support`);
  if (namespace) {
    if (!info.watchNamespaced) throw new KindError('NOT_NAMESPACED_WATCHABLE', `${name} has no namespaced watcher support`);
  } else if (!info.watchAll) {
    throw new KindError('NOT_WATCHABLE', `${name} has no watcher support across all namespaces; give a namespace`);
  }
  return {
    info,
    namespace: namespace || undefined,
    kind,
    schema: isResourceDescriptor(kind) ? (kind.schema as WatchTarget<WatchedObject<K>>['schema']) : undefined,
  };
}
