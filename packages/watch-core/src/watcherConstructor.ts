import type { CheckWatchable, KubernetesKind, WatchedObject } from '@kwatch/models';
import type { WatcherOptions } from './options.ts';
import type { PartialObjectMetadata } from './partialObjectMetadata.ts';
import { Watcher as WatcherClass } from './watcher.ts';

/**
 * `new Watcher(kind, options)`: with `metadataOnly: true` its objects are typed
 * {@link PartialObjectMetadata}, otherwise the kind's own objects.
 */
export interface WatcherConstructor {
  new <K extends KubernetesKind>(
    kind: K & CheckWatchable<K>,
    options: WatcherOptions<K> & { readonly metadataOnly: true },
  ): WatcherClass<K, PartialObjectMetadata>;
  new <K extends KubernetesKind, T = WatchedObject<K>>(
    kind: K & CheckWatchable<K>,
    options?: WatcherOptions<K>,
  ): WatcherClass<K, T>;
  readonly prototype: WatcherClass<KubernetesKind, unknown>;
}

/** {@inheritDoc WatcherClass} */
export const Watcher = WatcherClass as WatcherConstructor;
/** A watcher of `K` whose objects are `T` (see the {@link Watcher} value for how to make one). */
export type Watcher<K extends KubernetesKind, T = WatchedObject<K>> = WatcherClass<K, T>;
