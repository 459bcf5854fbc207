// Layer 3, informers: shared watches, indexed stores and subscriber feeds (InformerFactory, Store).
// Imports only watch/, client/ and internal/; entered only through this file.
export { InformerFactory, type SharedWatchInfo } from './informers.ts';
export type {
  InformerFactoryOptions,
  InformerOptions,
  InformerStreamOptions,
  SharedWatcherOptions,
  StoreEventsOptions,
  StoreOptions,
} from './options.ts';
export { SharedStore } from './sharedStore.ts';
export { dropManagedFields, Store, type StoreChange } from './store.ts';
export type { IndexFunc } from './storeIndex.ts';
