/**
 * Sync benchmark peer: kwatch's Watcher (or, with `store` as 4th argument, a Store; with
 * `metadata`, a metadata-only Watcher) over ConfigMaps in one namespace. KUBECONFIG names the
 * cluster, read by kwatch itself (no @kubernetes/client-node). See protocol.ts.
 */
import { ConfigMap } from '@kwatch/models/v1/ConfigMap';
import { Store, Watcher } from '@kwatch/watch-core';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const mode = process.argv[5];
const watcher = new Watcher(ConfigMap, { namespace, metadataOnly: mode === 'metadata' });
say('ready');
const store = mode === 'store' ? new Store<ConfigMap>() : undefined;
let listed = 0;
let modified = 0;
let named = 0;
for await (const e of watcher.stream({ markers: true })) {
  store?.apply(e);
  if (e.type === 'SYNCED') {
    say(`synced ${store ? store.size : listed}`);
    if ((store ? store.size : listed) !== objects) console.error(`expected ${objects} objects, got ${listed}`);
    continue;
  }
  if (e.type === 'RESYNC') continue;
  if (e.object.metadata?.name) named += 1;
  if (e.type === 'ADDED') listed += 1;
  else if (e.type === 'MODIFIED' && ++modified === updates) break;
}
say(`done ${modified} ${named}`);
await waitForStdinEnd();
