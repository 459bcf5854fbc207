// Layer 3, informers: shared watches, indexed stores and subscriber feeds (InformerFactory, Store).
// Imports only watch/, client/ and internal/; entered only through this file.
export {
  InformerFactory,
  type InformerFactoryOptions,
  type InformerOptions,
  type InformerStreamOptions,
  type SharedWatcherOptions,
  type SharedWatchInfo,
} from './informers.ts';
export { SharedStore } from './sharedStore.ts';
export { dropManagedFields, Store, type StoreChange, type StoreEventsOptions, type StoreOptions } from './store.ts';
export type { IndexFunc } from './storeIndex.ts';
