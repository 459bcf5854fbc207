// An informer cache, and waiting for a condition.
//   node --conditions=@kwatch/source examples/store.ts <namespace>
import { ConfigMap } from '@kwatch/models/v1';
import { dropManagedFields, Store, Watcher, waitUntil } from '@kwatch/watch-core';

const [namespace = 'default'] = process.argv.slice(2);
const watcher = new Watcher(ConfigMap, { namespace });
const store = new Store<ConfigMap>({ transform: dropManagedFields });
const feeding = store.consume(watcher.stream({ markers: true }));
await store.ready();
console.log(
  'cached',
  store
    .list()
    .map((c) => c.metadata?.name)
    .sort()
    .join(','),
);
const ready = await waitUntil(ConfigMap, (c) => c.data?.ready === 'true', { namespace, timeoutMs: 30_000 });
// waitUntil runs a watch of its own: give the store's watch the moment it may need to see the same object.
while (!store.get(namespace, ready.metadata?.name ?? '')) await new Promise((r) => setTimeout(r, 20));
console.log('ready', ready.metadata?.name, 'cached now', store.size);
watcher.stop();
await feeding;
