/**
 * Sync benchmark peer: @kubernetes/client-node's informer (ListWatch) over ConfigMaps in one
 * namespace. KUBECONFIG names the cluster. client-node has no "synced" signal: the initial
 * state is complete when all <objects> adds have arrived. See protocol.ts.
 */
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const kc = new KubeConfig();
kc.loadFromDefault();
const api = kc.makeApiClient(CoreV1Api);
const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
  api.listNamespacedConfigMap({ namespace }),
);
say('ready');
let added = 0;
let modified = 0;
let named = 0;
await new Promise<void>((resolve, reject) => {
  informer.on('add', (cm) => {
    if (cm.metadata?.name) named += 1;
    if (++added === objects) say(`synced ${added}`);
  });
  informer.on('update', (cm) => {
    if (cm.metadata?.name) named += 1;
    if (++modified === updates) resolve();
  });
  informer.on('error', reject);
  void informer.start();
});
await informer.stop();
say(`done ${modified} ${named}`);
await waitForStdinEnd();
