// What the CLI watches for a resource found by discovery: a built-in kind's class, or a descriptor.
import { BUILTIN_RESOURCES, type KubernetesKind } from '@kwatch/models';
import { type DiscoveredResource, descriptorOf } from '@kwatch/toolkit';

/**
 * What to watch for a resource found by discovery: for a built-in kind, its model class loaded from the kind's own
 * entry point (`@kwatch/models/v1/Pod`, not the group-version barrel `@kwatch/models/v1` that loads every class of
 * `v1`, ~50 MB more); for anything else (custom resources, aggregated APIs, kinds without a class) a descriptor whose objects
 * are untyped. Throws a `KindError` `NOT_WATCHABLE` when the server does not offer `watch` for it.
 *
 * @example
 * ```ts
 * const Deployment = await kindFor(await discovery.resolve('deploy'));
 * ```
 */
export async function kindFor(resource: DiscoveredResource): Promise<KubernetesKind> {
  const descriptor = descriptorOf(resource); // checks it can be watched
  const builtin = BUILTIN_RESOURCES.some((b) => b.apiVersion === resource.apiVersion && b.kind === resource.kind);
  if (!builtin) return descriptor;
  try {
    const mod = (await import(`@kwatch/models/${resource.apiVersion}/${resource.kind}`)) as Record<string, KubernetesKind>;
    return mod[resource.kind] ?? descriptor;
  } catch {
    return descriptor; // no class for it: plain objects
  }
}
