/**
 * Sync benchmark peer: kwatch's Watcher (or, with `store` as 4th argument, a Store) over
 * ConfigMaps in one namespace. KUBECONFIG names the cluster. See protocol.ts.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Store, Watcher } from '@kwatch/watch-core';
// The per-kind path loads one model class; the `@kwatch/models/v1` barrel loads all of v1 (~70 MB RSS more, see docs/benchmarks.md).
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const watcher = new Watcher(ConfigMap, { namespace, kubeConfig });
say('ready');
const store = process.argv[5] === 'store' ? new Store<ConfigMap>() : undefined;
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
