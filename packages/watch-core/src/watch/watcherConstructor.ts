// The public Watcher value: the Watcher class behind a constructor type that checks the kind.
import type { CheckWatchable, KubernetesKind, WatchedObject } from '@kwatch/models';
import type { PartialObjectMetadata } from '../internal/index.ts';
import type { WatcherOptions } from './options.ts';
import { Watcher as WatcherClass } from './watcher.ts';

/**
 * `new Watcher(kind, options)`: with `metadataOnly: true` its objects are typed
 * {@link PartialObjectMetadata}, otherwise the kind's own objects.
 */
export interface WatcherConstructor {
  new <K extends KubernetesKind, const O extends WatcherOptions<K> = WatcherOptions<K>>(
    kind: K & CheckWatchable<K>,
    options?: O & WatcherOptions<K>,
  ): WatcherClass<K, O extends { readonly metadataOnly: true } ? PartialObjectMetadata : WatchedObject<K>>;
  readonly prototype: WatcherClass<KubernetesKind, unknown>;
}

/**
 * Watches one kind, in one namespace or all, as an async iterable of typed events — Hikaru's
 * `Watcher`, without its ways of losing events (see the class for the whole contract). With
 * `metadataOnly: true` its objects are {@link PartialObjectMetadata}.
 *
 * @example
 * ```ts
 * import { Pod } from '@kwatch/models/v1/Pod';
 * for await (const we of new Watcher(Pod, { namespace: 'web' }).stream()) console.log(we.type, we.object.metadata?.name);
 * ```
 */
export const Watcher = WatcherClass as WatcherConstructor;
/** A watcher of `K` whose objects are `T` (see the {@link Watcher} value for how to make one). */
export type Watcher<K extends KubernetesKind, T = WatchedObject<K>> = WatcherClass<K, T>;
