/**
 * `pnpm demo`: the README's main job. Without a kubeconfig (or with --local) it starts the
 * embedded control plane (building it on first run), creates, changes and deletes a few
 * ConfigMaps in a fresh namespace and prints the watch events as they arrive.
 *
 *   pnpm demo [--local] [--duration <seconds>]
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from '@kwatch/testenv';

const { values } = parseArgs({
  options: { local: { type: 'boolean', default: false }, duration: { type: 'string', default: '15' } },
});
const durationMs = Number(values.duration) * 1000;
if (!Number.isFinite(durationMs) || durationMs <= 0) {
  console.error(`--duration expects a positive number of seconds, got '${values.duration}'`);
  process.exit(2);
}

const haveKubeconfig = Boolean(process.env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
let cp: ControlPlane | undefined;
let kc: KubeConfig;
if (values.local || !haveKubeconfig) {
  console.error('demo: no kubeconfig given, starting the embedded control plane');
  cp = await startControlPlane({ onProgress: (m) => console.error(`demo: ${m}`) });
  kc = cp.kubeConfig;
} else {
  kc = new KubeConfig();
  kc.loadFromDefault();
  console.error(`demo: using context '${kc.getCurrentContext()}' of your kubeconfig`);
}

const core = kc.makeApiClient(CoreV1Api);
const namespace = `kwatch-demo-${randomBytes(3).toString('hex')}`;
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
let watchAbort: AbortController | undefined;
try {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  console.log(`watching configmaps in ${namespace} for ${durationMs / 1000} s (Ctrl-C ends it)`);
  watchAbort = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { allowWatchBookmarks: true },
    (type, obj: { metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> }) =>
      console.log(
        `${type.padEnd(9)} ${obj.metadata?.name ?? ''} rv=${obj.metadata?.resourceVersion} ${JSON.stringify(obj.data ?? {})}`,
      ),
    (err) => {
      if (err && !stop.signal.aborted) console.error(`demo: watch ended: ${String(err)}`);
    },
  );
  const deadline = Date.now() + durationMs;
  for (let i = 0; Date.now() < deadline && !stop.signal.aborted; i++) {
    const name = `cm-${i % 3}`;
    const step = Math.floor(i / 3) % 3;
    if (step === 0) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { i: String(i) } } });
    else if (step === 1)
      await core.replaceNamespacedConfigMap({ namespace, name, body: { metadata: { name }, data: { i: String(i) } } });
    else await core.deleteNamespacedConfigMap({ namespace, name });
    await sleep(500, undefined, { signal: stop.signal }).catch(() => {});
  }
} finally {
  stop.abort();
  watchAbort?.abort();
  await core.deleteNamespace({ name: namespace }).catch(() => {});
  await cp?.stop();
  console.error('demo: done');
}
