/**
 * Scale benchmark peer: one watch per namespace (<count> namespaces named <prefix>-<i>, each with
 * <perNamespace> ConfigMaps), all in this process. Usage:
 *   scale.ts <kwatch|kwatch-http1|client-node> <prefix> <count> <perNamespace>
 * Shared mode: <count> subscribers over <pairs> namespaces (subscriber i watches <prefix>-<i % pairs>):
 *   scale.ts <kwatch-informers|client-node-informers> <prefix> <count> <perNamespace> <pairs>
 * kwatch-informers: one InformerFactory, a stream per subscriber (one shared watch per namespace);
 * client-node-informers: one client-node informer per subscriber (its own list and watch).
 * Prints `ready`, then `synced <objects>` once every watch has its initial state, then idles
 * (watching) until stdin closes. KUBECONFIG names the cluster.
 */
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { InformerFactory, Watcher } from '@kwatch/watch-core';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { say, waitForStdinEnd } from './protocol.ts';

const [impl, prefix, countArg, perArg, pairsArg] = process.argv.slice(2);
const count = Number(countArg);
const expected = count * Number(perArg);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const pairs = pairsArg === undefined ? count : Number(pairsArg);
const namespaces = Array.from({ length: count }, (_, i) => `${prefix}-${i % pairs}`);
say('ready');
let objects = 0;
let synced = 0;
const stop: Array<() => unknown> = [];
await new Promise<void>((resolve, reject) => {
  if (impl === 'kwatch-informers') {
    const informers = new InformerFactory({ kubeConfig });
    stop.push(() => informers.stop());
    for (const namespace of namespaces) {
      void (async () => {
        for await (const e of informers.stream(ConfigMap, { namespace, markers: true })) {
          if (e.type === 'ADDED') objects += 1;
          else if (e.type === 'SYNCED' && e.initial && ++synced === count) resolve();
        }
      })().catch(reject);
    }
  } else if (impl === 'kwatch' || impl === 'kwatch-http1') {
    for (const namespace of namespaces) {
      const watcher = new Watcher(ConfigMap, { namespace, kubeConfig, http2: impl === 'kwatch' });
      stop.push(() => watcher.stop());
      void (async () => {
        for await (const e of watcher.stream({ markers: true })) {
          if (e.type === 'ADDED') objects += 1;
          else if (e.type === 'SYNCED' && ++synced === count) resolve();
        }
      })().catch(reject);
    }
  } else {
    const api = kubeConfig.makeApiClient(CoreV1Api);
    for (const namespace of namespaces) {
      const informer = makeInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${namespace}/configmaps`, () =>
        api.listNamespacedConfigMap({ namespace }),
      );
      stop.push(() => informer.stop());
      // client-node has no synced signal: all objects added means every list is done (its watch follows at once).
      informer.on('add', () => ++objects === expected && resolve());
      informer.on('error', reject);
      void informer.start();
    }
  }
});
say(`synced ${objects}`);
await waitForStdinEnd();
for (const s of stop) s();
process.exit(0);
