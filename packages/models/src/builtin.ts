// Descriptors of built-in kinds that kubernetes-models has no class for (builtinResource).
import { makeDescriptor, type ResourceDescriptor } from './descriptor.ts';
import { BUILTIN_RESOURCES } from './generated/registry.ts';
import type { KubernetesObject } from './object.ts';

/**
 * The descriptor of a built-in kind that kubernetes-models has no class for; the
 * generated group/version entry points export these under the kind's name.
 *
 * @example
 * ```ts
 * const ComponentStatus = builtinResource('v1', 'ComponentStatus');
 * ```
 */
export function builtinResource<A extends string, K extends string>(
  apiVersion: A,
  kind: K,
): ResourceDescriptor<KubernetesObject, A, K> {
  const info = BUILTIN_RESOURCES.find((r) => r.apiVersion === apiVersion && r.kind === kind);
  if (!info) throw new Error(`kwatch: ${apiVersion} ${kind} is not in the generated registry`);
  return makeDescriptor({ ...info, apiVersion, kind, namespaced: info.namespaced }, undefined);
}
