/**
 * Latency benchmark peer: watches ConfigMaps in one namespace and, for each MODIFIED event,
 * takes the time since the write was sent (the writer puts its send time, epoch ms with
 * fractions, in `data.sentAt`). Usage: latency.ts <kwatch|client-node> <namespace> <updates>.
 * Prints `ready`, `synced 0` once watching, then `done <p50> <p99> <max>` (ms), then waits for stdin to close.
 */
import { CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { Watcher } from '@kwatch/watch-core';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { say, waitForStdinEnd } from './protocol.ts';

const [impl, namespace, updatesArg] = process.argv.slice(2);
const updates = Number(updatesArg);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const now = () => performance.timeOrigin + performance.now();
const latencies: number[] = [];
const record = (data: Record<string, string> | undefined): boolean => {
  const sentAt = Number(data?.sentAt);
  if (Number.isFinite(sentAt)) latencies.push(now() - sentAt);
  return latencies.length >= updates;
};
say('ready');
if (impl === 'kwatch') {
  for await (const e of new Watcher(ConfigMap, { namespace: namespace as string, kubeConfig }).stream({ markers: true })) {
    if (e.type === 'SYNCED') say('synced 0');
    else if (e.type === 'MODIFIED' && record(e.object.data)) break;
  }
} else {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace: namespace as string }),
  );
  await new Promise<void>((resolve, reject) => {
    informer.on('connect', () => setTimeout(() => say('synced 0'), 500));
    informer.on('update', (cm) => record(cm.data) && resolve());
    informer.on('error', reject);
    void informer.start();
  });
  await informer.stop();
}
latencies.sort((a, b) => a - b);
const at = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number).toFixed(2);
say(`done ${at(0.5)} ${at(0.99)} ${at(1)}`);
await waitForStdinEnd();
