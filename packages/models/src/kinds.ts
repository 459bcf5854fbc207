// What the type system knows of a kind: KubernetesKind, its object type, and how it can be watched.
import type { ResourceDescriptor } from './descriptor.ts';
import type { BuiltinKindMap } from './generated/kindMap.ts';

/**
 * Anything that names a kind: a kubernetes-models class (`Pod`, `PodList`), or a
 * {@link ResourceDescriptor}. Both carry `apiVersion` and `kind` as static values.
 *
 * @example
 * ```ts
 * const kinds: KubernetesKind[] = [Pod, PodList, CronTab];
 * ```
 */
export interface KubernetesKind {
  readonly apiVersion: string;
  readonly kind: string;
}

type KindKey<K> = K extends { readonly apiVersion: infer A extends string; readonly kind: infer N extends string }
  ? `${A}/${N}`
  : never;

/** The kind's name, for messages; `This value` when it is not known at compile time. */
export type KindName<K> = K extends { readonly kind: infer N extends string }
  ? string extends N
    ? 'This value'
    : N
  : 'This value';

interface NotWatchable {
  object: never;
  namespaced: false;
  watchAll: false;
  watchNamespaced: false;
}

/**
 * What the type system knows of a kind: its object type and how it can be watched.
 * Built-in kinds come from the generated {@link BuiltinKindMap} (list kinds give their
 * item's object type); custom resources from their descriptor.
 */
export type KindFacts<K> =
  KindKey<K> extends keyof BuiltinKindMap
    ? BuiltinKindMap[KindKey<K>]
    : K extends ResourceDescriptor<infer T, string, string, infer NS>
      ? { object: T; namespaced: NS; watchAll: true; watchNamespaced: NS }
      : NotWatchable;

/**
 * The object type a watch of `K` yields: `Pod` for `Pod` and `PodList`, the schema's type
 * for a custom resource.
 *
 * @example
 * ```ts
 * type P = WatchedObject<typeof PodList>; // Pod
 * ```
 */
export type WatchedObject<K> = KindFacts<K>['object'];

/**
 * `unknown` (no constraint) for a watchable kind; otherwise a string literal type that
 * makes the call fail to compile with Hikaru's message, e.g.
 * `"SelfSubjectRulesReview has no watcher support"`.
 */
export type CheckWatchable<K> = true extends KindFacts<K>['watchAll'] | KindFacts<K>['watchNamespaced']
  ? unknown
  : `${KindName<K>} has no watcher support`;

/**
 * The type of the `namespace` option for `K`: any string for kinds watchable within a
 * namespace; otherwise only `''` (all namespaces, the same as leaving it out), so a
 * namespace fails to compile with `"Node has no namespaced watcher support"`.
 */
export type NamespaceOption<K> = true extends KindFacts<K>['watchNamespaced']
  ? string
  : '' | `${KindName<K>} has no namespaced watcher support`;
