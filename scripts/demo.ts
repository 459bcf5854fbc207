/**
 * `pnpm demo`: the README's main job. Without a kubeconfig (or with --local) it starts the
 * embedded control plane (building it on first run, with progress). A small workload
 * creates, changes and deletes pods, configmaps and a namespace while one kwatch
 * MultiplexingWatcher shows them live. It ends by itself after --duration seconds, or on Ctrl-C.
 *
 *   pnpm demo [--local] [--duration <seconds>]
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, styleText } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ConfigMap, Namespace, Pod } from '@kwatch/models/v1';
import { type ControlPlane, startControlPlane } from '@kwatch/testenv';
import { MultiplexingWatcher, Watcher } from '@kwatch/watch-core';

const { values } = parseArgs({
  options: { local: { type: 'boolean', default: false }, duration: { type: 'string', default: '20' } },
});
const durationMs = Number(values.duration) * 1000;
if (!Number.isFinite(durationMs) || durationMs <= 0) {
  console.error(`--duration expects a positive number of seconds, got '${values.duration}'`);
  process.exit(2);
}

const tty = process.stdout.isTTY;
const paint = (style: Parameters<typeof styleText>[0], text: string) => (tty ? styleText(style, text) : text);
const status = (text: string) => console.error(paint('dim', `demo: ${text}`));

const haveKubeconfig = Boolean(process.env.KUBECONFIG) || existsSync(join(homedir(), '.kube', 'config'));
let cp: ControlPlane | undefined;
let kc: KubeConfig;
if (values.local || !haveKubeconfig) {
  status('no kubeconfig given: starting the embedded control plane (kube-apiserver + etcd)');
  cp = await startControlPlane({ onProgress: status });
  kc = cp.kubeConfig;
} else {
  kc = new KubeConfig();
  kc.loadFromDefault();
  status(`using context '${kc.getCurrentContext()}' of your kubeconfig`);
}

const core = kc.makeApiClient(CoreV1Api);
const namespace = `kwatch-demo-${randomBytes(3).toString('hex')}`;
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

const mux = new MultiplexingWatcher({ onCulled: (w, e) => status(`${w.target.info.kind} watcher stopped: ${String(e)}`) })
  .addWatcher(new Watcher(Pod, { namespace, kubeConfig: kc }))
  .addWatcher(new Watcher(ConfigMap, { namespace, kubeConfig: kc }))
  .addWatcher(new Watcher(Namespace, { kubeConfig: kc, fieldSelector: `metadata.name=${namespace}` }));

const colours = { ADDED: 'green', MODIFIED: 'yellow', DELETED: 'red' } as const;
async function show(): Promise<void> {
  for await (const e of mux.stream({ markers: true, signal: stop.signal })) {
    if (e.type === 'SYNCED' || e.type === 'RESYNC') {
      status(`${e.kind}: ${e.type === 'SYNCED' ? 'in sync' : 'resyncing'}`);
      continue;
    }
    const time = new Date().toISOString().slice(11, 19);
    const name = `${e.object.metadata?.namespace ? `${e.object.metadata.namespace}/` : ''}${e.object.metadata?.name}`;
    let detail = '';
    if (e.tombstone) detail = '(deleted while away: metadata only)';
    else if (e.kind === 'Pod') detail = e.object.status?.phase ?? '';
    else if (e.kind === 'ConfigMap') detail = JSON.stringify(e.object.data ?? {});
    else detail = e.object.status?.phase ?? '';
    console.log(`${time}  ${paint(colours[e.type], e.type.padEnd(8))}  ${e.kind.padEnd(9)}  ${name.padEnd(40)}  ${detail}`);
  }
}

async function workload(): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const pod = (name: string) => ({
    metadata: { name, labels: { app: 'demo' } },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
  });
  const deadline = Date.now() + durationMs;
  for (let i = 0; Date.now() < deadline && !stop.signal.aborted; i++) {
    const n = i % 3;
    switch (Math.floor(i / 3) % 4) {
      case 0:
        await core.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: `settings-${n}` }, data: { step: String(i) } },
        });
        break;
      case 1:
        await core.createNamespacedPod({ namespace, body: pod(`web-${n}`) });
        await core.replaceNamespacedConfigMap({
          namespace,
          name: `settings-${n}`,
          body: { metadata: { name: `settings-${n}` }, data: { step: String(i) } },
        });
        break;
      case 2:
        await core.patchNamespacedPod({
          namespace,
          name: `web-${n}`,
          body: [{ op: 'add', path: '/metadata/labels/step', value: String(i) }],
        });
        break;
      default:
        await core.deleteNamespacedPod({ namespace, name: `web-${n}`, gracePeriodSeconds: 0 });
        await core.deleteNamespacedConfigMap({ namespace, name: `settings-${n}` });
    }
    await sleep(400, undefined, { signal: stop.signal }).catch(() => {});
  }
}

const shown = show();
try {
  await sleep(300);
  await workload();
  await sleep(500, undefined, { signal: stop.signal }).catch(() => {});
} finally {
  await core.deleteNamespace({ name: namespace }).catch(() => {});
  await sleep(300);
  mux.stop();
  await shown;
  await cp?.stop();
  status('done');
}
