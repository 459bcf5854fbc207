// ResourceDescriptor: a kind given as a value (a custom resource, or a built-in kind without a class).
import type { ZodType } from 'zod';
import type { KubernetesObject } from './object.ts';
import type { ResourceInfo } from './resource.ts';

declare const objectType: unique symbol;
const DESCRIPTOR = Symbol.for('kwatch.resourceDescriptor');

/**
 * A kind given as a value rather than a model class: a custom resource
 * ({@link defineResource}, {@link resourceFromCRD}) or a built-in kind kubernetes-models
 * has no class for. Accepted wherever a model class is.
 *
 * @typeParam T - the type of the objects
 * @typeParam NS - whether the kind is namespaced (`boolean` when only known at run time)
 * @example
 * ```ts
 * const CronTab = defineResource({ group: 'stable.example.com', version: 'v1', kind: 'CronTab', plural: 'crontabs', namespaced: true });
 * new Watcher(CronTab, { namespace: 'jobs' });
 * ```
 */
export interface ResourceDescriptor<
  T = KubernetesObject,
  A extends string = string,
  K extends string = string,
  NS extends boolean = boolean,
> {
  readonly apiVersion: A;
  readonly kind: K;
  readonly namespaced: NS;
  /** Everything needed to watch it. */
  readonly info: ResourceInfo;
  /** Validates and types each object, when given. */
  readonly schema: ZodType<T> | undefined;
  /** Type-only: the object type. */
  readonly [objectType]?: T;
}

/** Creates a descriptor (internal; use defineResource). */
export function makeDescriptor<T, A extends string, K extends string, NS extends boolean>(
  info: ResourceInfo & { apiVersion: A; kind: K; namespaced: NS },
  schema: ZodType<T> | undefined,
): ResourceDescriptor<T, A, K, NS> {
  const d = {
    apiVersion: info.apiVersion,
    kind: info.kind,
    namespaced: info.namespaced,
    info: Object.freeze({ ...info }),
    schema,
  };
  Object.defineProperty(d, DESCRIPTOR, { value: true });
  return Object.freeze(d) as ResourceDescriptor<T, A, K, NS>;
}

/** True for a value made by {@link makeDescriptor} (from any copy of the package). */
export function isResourceDescriptor(value: unknown): value is ResourceDescriptor<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DESCRIPTOR] === true;
}
