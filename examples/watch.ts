// Watch ConfigMaps in one namespace: the existing ones once, then every change.
//   node --conditions=@kwatch/source examples/watch.ts <namespace> [seconds]
import { ConfigMap } from '@kwatch/models/v1';
import { Watcher } from '@kwatch/watch-core';

const [namespace = 'default', seconds = '10'] = process.argv.slice(2);
const watcher = new Watcher(ConfigMap, { namespace, signal: AbortSignal.timeout(Number(seconds) * 1000) });
for await (const we of watcher.stream()) {
  // A DELETED found by a resync carries a tombstone (metadata only), so `data` is read from whole objects.
  console.log(we.type, we.object.metadata?.name, we.tombstone ? '(tombstone)' : JSON.stringify(we.object.data ?? {}));
}
console.log('health', JSON.stringify(watcher.health()));
