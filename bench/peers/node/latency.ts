/**
 * Latency benchmark peer: watches ConfigMaps in one namespace and, for each MODIFIED event,
 * takes the time since the write was sent (the writer puts its send time, epoch ms with
 * fractions, in `data.sentAt`). Usage: latency.ts <kwatch|client-node> <namespace> <updates>.
 * Prints `ready`, `synced 0` once watching, then `done <p50> <p99> <max>` (ms), then waits for stdin to close.
 */
import { get, type RequestOptions } from 'node:https';
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
let live = false;
const record = (data: Record<string, string> | undefined): boolean => {
  if (!live) {
    live = true;
    say('live');
  }
  const sentAt = Number(data?.sentAt);
  if (Number.isFinite(sentAt)) latencies.push(now() - sentAt);
  return latencies.length >= updates;
};
say('ready');
if (impl === 'kwatch') {
  for await (const e of new Watcher(ConfigMap, {
    namespace: namespace as string,
    kubeConfig,
    hooks: {
      reconnecting: (i) =>
        console.error(`latency peer: reconnecting in ${i.delayMs} ms after ${i.error.code}: ${i.error.message}`),
    },
  }).stream()) {
    if (e.type === 'MODIFIED' && record(e.object.data)) break;
  }
} else if (impl === 'raw') {
  const opts: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(opts);
  const server = kubeConfig.getCurrentCluster()?.server as string;
  await new Promise<void>((resolve, reject) => {
    const req = get(`${server}/api/v1/namespaces/${namespace}/configmaps?watch=true`, opts, async (res) => {
      let rest = '';
      for await (const chunk of res) {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) {
          const e = JSON.parse(line) as { type: string; object: { data?: Record<string, string> } };
          if (e.type === 'MODIFIED' && record(e.object.data)) {
            req.destroy();
            resolve();
            return;
          }
        }
      }
    });
    req.on('error', reject);
  });
} else {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1ConfigMap>(kubeConfig, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace: namespace as string }),
  );
  await new Promise<void>((resolve, reject) => {
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
