// Watch ConfigMaps in one namespace: the existing ones once, then every change.
//   node --conditions=@kwatch/source examples/watch.ts <namespace> [seconds]
import { ConfigMap } from '@kwatch/models/v1';
import { Watcher } from '@kwatch/watch-core';

const [namespace = 'default', seconds = '10'] = process.argv.slice(2);
const watcher = new Watcher(ConfigMap, { namespace, signal: AbortSignal.timeout(Number(seconds) * 1000) });
for await (const we of watcher.stream()) console.log(we.type, we.object.metadata?.name, JSON.stringify(we.object.data ?? {}));
console.log('health', JSON.stringify(watcher.health()));
