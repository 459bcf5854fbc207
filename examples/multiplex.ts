// ConfigMaps and Secrets of one namespace in one stream, narrowed by kind.
//   node --conditions=@kwatch/source examples/multiplex.ts <namespace> [seconds]
import { ConfigMap, Secret } from '@kwatch/models/v1';
import { MultiplexingWatcher, Watcher } from '@kwatch/watch-core';

const [namespace = 'default', seconds = '10'] = process.argv.slice(2);
const mux = new MultiplexingWatcher()
  .addWatcher(new Watcher(ConfigMap, { namespace }))
  .addWatcher(new Watcher(Secret, { namespace }));
for await (const e of mux.stream({ signal: AbortSignal.timeout(Number(seconds) * 1000) })) {
  if (e.kind === 'Secret' && !e.tombstone)
    console.log(e.type, 'secret', e.object.metadata?.name, 'keys:', Object.keys(e.object.data ?? {}).join(','));
  else console.log(e.type, 'configmap', e.object.metadata?.name);
}
