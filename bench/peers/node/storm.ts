/**
 * Storm benchmark peer: watches ConfigMaps in one namespace the way each library's documentation
 * shows, against a (hostile) server named by KUBECONFIG, prints `ready` and runs until stdin closes.
 *   node storm.ts kwatch <namespace>       a managed `new Watcher(ConfigMap, { namespace })` stream
 *   node storm.ts client-node <namespace>  client-node's informer, restarted 1 s after an `error` as its docs do
 */
import { KubeConfig } from '@kubernetes/client-node';
import { say, waitForStdinEnd } from './protocol.ts';

const [impl, namespace] = process.argv.slice(2);
if ((impl !== 'kwatch' && impl !== 'client-node') || !namespace) {
  console.error('usage: storm.ts <kwatch|client-node> <namespace>');
  process.exit(2);
}
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();

if (impl === 'kwatch') {
  const { Watcher } = await import('@kwatch/watch-core');
  const { ConfigMap } = await import('kubernetes-models/v1/ConfigMap');
  const watcher = new Watcher(ConfigMap, { namespace, kubeConfig });
  const consumed = (async () => {
    for await (const _ of watcher.stream()) {
      // consume
    }
  })();
  say('ready');
  await waitForStdinEnd();
  watcher.stop();
  await consumed;
} else {
  const { CoreV1Api, makeInformer } = await import('@kubernetes/client-node');
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer(kubeConfig, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace }),
  );
  let stopped = false;
  informer.on('error', () => setTimeout(() => stopped || void informer.start(), 1000));
  say('ready');
  void informer.start();
  await waitForStdinEnd();
  stopped = true;
  await informer.stop();
}
process.exit(0);
