/**
 * store-memory: heap bytes per object kept by a Store, for realistic ~2.6 KB Pods,
 * as decoded by kwatch, with and without dropping managedFields.
 */
import { adoptObject } from '@kwatch/models';
import { Pod } from '@kwatch/models/v1';
import { dropManagedFields, parseWatchLine, Store, WatchEvent } from '@kwatch/watch-core';
import { podEvent } from './fixtures.ts';

function heap(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

function fill(objects: number, transform: ((p: Pod) => Pod) | undefined): { bytes: number } {
  const before = heap();
  let store: Store<Pod> | undefined = new Store<Pod>(transform ? { transform } : {});
  for (let i = 0; i < objects; i++) {
    const object = adoptObject<Pod>(parseWatchLine(podEvent(i)).object, Pod, undefined);
    store.apply(new WatchEvent('ADDED', object));
  }
  const after = heap();
  if (store.size !== objects) throw new Error('store lost objects');
  store = undefined;
  return { bytes: after - before };
}

export function runStoreMemory(objects = 10_000): object[] {
  if (!globalThis.gc) throw new Error('run with node --expose-gc (pnpm bench does)');
  const rows: object[] = [];
  for (const [impl, transform] of [
    ['store', undefined],
    ['store+dropManagedFields', dropManagedFields<Pod>],
  ] as const) {
    fill(1000, transform); // warm-up
    const { bytes } = fill(objects, transform);
    rows.push({
      scenario: 'store-memory',
      impl,
      objects,
      bytesPerObject: Math.round(bytes / objects),
      heapMB: Math.round(bytes / 2 ** 20),
    });
  }
  return rows;
}
