/**
 * The soak: random creates, updates and deletes on 3 kinds in 3 namespaces of a real
 * control plane, while a fault proxy cuts, stalls, corrupts and refuses connections, the
 * apiserver restarts and etcd is compacted. A managed MultiplexingWatcher rebuilds the state
 * through the proxy; at the end it must equal a LIST (uids and resourceVersions), with no
 * event delivered twice outside an announced sync and, per object, every event in order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap, Secret, ServiceAccount } from '@kwatch/models/v1';
import { type ControlPlane, type FaultProxy, startControlPlane, startFaultProxy } from '@kwatch/testenv';
import { SHARED_APISERVER_FLAGS } from '@kwatch/testenv/vitest-global-setup';
import { isMarker, MultiplexingWatcher, Watcher } from '@kwatch/watch-core';

/** What a soak reports. */
export interface SoakResult {
  seconds: number;
  operations: number;
  failedOperations: number;
  events: number;
  faults: number;
  faultKinds: Record<string, number>;
  restarts: number;
  compactions: number;
  resyncs: number;
  objects: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  p99RecoveryMs: number;
  maxRecoveryMs: number;
}

const LABEL = 'kwatch-soak';
const NAMESPACES = ['soak-0', 'soak-1', 'soak-2'];
const NAMES = Array.from({ length: 15 }, (_, i) => `obj-${i}`);
type KindName = 'ConfigMap' | 'Secret' | 'ServiceAccount';
const KINDS: KindName[] = ['ConfigMap', 'Secret', 'ServiceAccount'];

/** Runs a soak for `seconds`; `log` gets progress lines. */
export async function runSoak(options: { seconds: number; log?: (line: string) => void }): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const cp = await startControlPlane({ extraApiserverFlags: SHARED_APISERVER_FLAGS, onProgress: (m) => log(`testenv: ${m}`) });
  const proxy = await startFaultProxy(cp);
  try {
    return await soak(cp, proxy, options.seconds, log);
  } finally {
    await proxy.stop();
    await cp.stop();
  }
}

async function soak(cp: ControlPlane, proxy: FaultProxy, seconds: number, log: (line: string) => void): Promise<SoakResult> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const ns of NAMESPACES) await core.createNamespace({ body: { metadata: { name: ns } } });
  const result: SoakResult = {
    seconds,
    operations: 0,
    failedOperations: 0,
    events: 0,
    faults: 0,
    faultKinds: {},
    restarts: 0,
    compactions: 0,
    resyncs: 0,
    objects: 0,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    p99RecoveryMs: 0,
    maxRecoveryMs: 0,
  };

  // The consumer's view, and what it needs to judge duplicates and order.
  const state = new Map<string, { uid: string; rv: string }>();
  const delivered = new Set<string>();
  const lastRv = new Map<string, number>();
  const syncing = new Set<string>(KINDS);
  const connectedAt = new Map<string, number[]>();

  const proxied = proxy.kubeConfig();
  const mux = new MultiplexingWatcher({
    exceptionCallback: () => true,
    connectConcurrency: 3,
    restartBackoff: { initialMs: 200, maxMs: 2000 },
  });
  for (const kind of [ConfigMap, Secret, ServiceAccount]) {
    mux.addWatcher(
      new Watcher(kind as typeof ConfigMap, {
        kubeConfig: proxied,
        labelSelector: `${LABEL}=1`,
        timeoutSeconds: 60,
        inactivityTimeoutMs: 4_000,
        backoff: { initialMs: 200, maxMs: 2_000 },
        hooks: { connected: () => connectedAt.set(kind.kind, [...(connectedAt.get(kind.kind) ?? []), Date.now()]) },
      }),
    );
  }
  const consuming = (async () => {
    for await (const e of mux.stream({ markers: true })) {
      if (isMarker(e)) {
        if (e.type === 'RESYNC') {
          syncing.add(e.kind);
          result.resyncs += 1;
        } else syncing.delete(e.kind);
        continue;
      }
      result.events += 1;
      const meta =
        (e.object as { metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } }).metadata ?? {};
      const key = `${e.kind}/${meta.namespace}/${meta.name}`;
      const id = `${e.kind}/${meta.uid}/${meta.resourceVersion}/${e.type}`;
      const inSync = syncing.has(e.kind);
      if (delivered.has(id) && !inSync) result.duplicates += 1;
      delivered.add(id);
      const rv = Number(meta.resourceVersion);
      const prev = lastRv.get(key);
      if (!e.synthetic && !inSync && prev !== undefined && rv <= prev) result.outOfOrder += 1;
      lastRv.set(key, Math.max(rv, prev ?? 0));
      if (e.type === 'DELETED') state.delete(key);
      else state.set(key, { uid: meta.uid ?? '', rv: meta.resourceVersion ?? '' });
    }
  })();

  const end = Date.now() + seconds * 1000;
  let running = true;

  // The mutator: direct to the apiserver (not through the proxy), about 17 operations a second (40 ms between operations, plus their own time).
  const exists = new Set<string>();
  const mutating = (async () => {
    let n = 0;
    while (running) {
      const kind = KINDS[Math.floor(Math.random() * KINDS.length)] as KindName;
      const namespace = NAMESPACES[Math.floor(Math.random() * NAMESPACES.length)] as string;
      const name = NAMES[Math.floor(Math.random() * NAMES.length)] as string;
      const key = `${kind}/${namespace}/${name}`;
      const metadata = { name, labels: { [LABEL]: '1', n: String(n++) } };
      try {
        if (!exists.has(key)) {
          await create(core, kind, namespace, metadata);
          exists.add(key);
        } else if (Math.random() < 0.7) {
          await replace(core, kind, namespace, name, metadata);
        } else {
          await remove(core, kind, namespace, name);
          exists.delete(key);
        }
        result.operations += 1;
      } catch (err) {
        result.failedOperations += 1;
        const code = (err as { code?: number }).code;
        if (code === 409) exists.add(key);
        else if (code === 404) exists.delete(key);
        else await sleep(200);
      }
      await sleep(40);
    }
  })();

  // Faults: a proxy fault every 2.5 s; restarts and compactions spread over the run (at least 3 each).
  const recoveries: number[] = [];
  const plan = Math.max(3, Math.floor(seconds / 60));
  const restartAt = Array.from({ length: plan }, (_, i) => ((i + 0.5) / plan) * seconds * 0.8 * 1000);
  const compactAt = Array.from({ length: plan }, (_, i) => ((i + 0.75) / plan) * seconds * 0.8 * 1000);
  const started = Date.now();
  const measureRecovery = (t: number, streams: number) => {
    if (streams === 0) return;
    void (async () => {
      const deadline = t + 30_000;
      while (Date.now() < deadline) {
        const back = KINDS.filter((k) => (connectedAt.get(k) ?? []).some((c) => c > t)).length;
        if (back >= Math.min(streams, KINDS.length)) {
          recoveries.push(Date.now() - t);
          return;
        }
        await sleep(10);
      }
      recoveries.push(30_000);
    })();
  };
  const faultKinds = ['cut', 'cut-mid-line', 'stall', 'http-500', 'http-429', 'corrupt'] as const;
  let nextFault = started + 2_500;
  while (Date.now() < end) {
    const elapsed = Date.now() - started;
    if (restartAt.length && elapsed >= (restartAt[0] as number)) {
      restartAt.shift();
      log(`restart ${result.restarts + 1}`);
      const t = Date.now();
      await cp.restartApiserver();
      result.restarts += 1;
      measureRecovery(t, KINDS.length);
    } else if (compactAt.length && elapsed >= (compactAt[0] as number)) {
      compactAt.shift();
      await cp.compact(await cp.etcdRevision());
      result.compactions += 1;
      log(`compaction ${result.compactions}`);
      proxy.cut(); // reconnect from old resourceVersions: ConfigMaps (served from etcd) now get 410
    } else if (Date.now() >= nextFault) {
      nextFault += 2_500;
      const fault = faultKinds[result.faults % faultKinds.length] as (typeof faultKinds)[number];
      const t = Date.now();
      if (fault === 'cut') measureRecovery(t, proxy.cut());
      else if (fault === 'cut-mid-line') proxy.cut({ midLine: true });
      else if (fault === 'stall') measureRecovery(t, proxy.stall());
      else if (fault === 'http-500') proxy.failNext({ status: 500, match: 'watch=true' }, 2);
      else if (fault === 'http-429') proxy.failNext({ status: 429, retryAfterSeconds: 1, match: 'watch=true' });
      else proxy.corruptNextLine();
      result.faults += 1;
      result.faultKinds[fault] = (result.faultKinds[fault] ?? 0) + 1;
    }
    await sleep(50);
  }
  running = false;
  await mutating;
  log(`mutations stopped after ${result.operations} operations; waiting for the watchers to converge`);

  // Converge: the rebuilt state must equal a LIST of every kind.
  const listed = async () => {
    const out = new Map<string, { uid: string; rv: string }>();
    const lists = await Promise.all([
      core.listConfigMapForAllNamespaces({ labelSelector: `${LABEL}=1` }),
      core.listSecretForAllNamespaces({ labelSelector: `${LABEL}=1` }),
      core.listServiceAccountForAllNamespaces({ labelSelector: `${LABEL}=1` }),
    ]);
    lists.forEach((list, i) => {
      for (const o of list.items) {
        out.set(`${KINDS[i]}/${o.metadata?.namespace}/${o.metadata?.name}`, {
          uid: o.metadata?.uid ?? '',
          rv: o.metadata?.resourceVersion ?? '',
        });
      }
    });
    return out;
  };
  const diff = (truth: Map<string, { uid: string; rv: string }>) => {
    let differences = 0;
    for (const [key, v] of truth) {
      const mine = state.get(key);
      if (!mine || mine.uid !== v.uid || mine.rv !== v.rv) differences += 1;
    }
    for (const key of state.keys()) if (!truth.has(key)) differences += 1;
    return differences;
  };
  let truth = await listed();
  const convergeBy = Date.now() + 60_000;
  while (diff(truth) > 0 && Date.now() < convergeBy) {
    await sleep(250);
    truth = await listed();
  }
  result.lost = diff(truth);
  result.objects = truth.size;
  mux.stop();
  await consuming;
  recoveries.sort((a, b) => a - b);
  result.p99RecoveryMs = recoveries.length
    ? (recoveries[Math.min(recoveries.length - 1, Math.floor(recoveries.length * 0.99))] as number)
    : 0;
  result.maxRecoveryMs = recoveries.at(-1) ?? 0;
  return result;
}

async function create(
  core: CoreV1Api,
  kind: KindName,
  namespace: string,
  metadata: { name: string; labels: Record<string, string> },
) {
  if (kind === 'ConfigMap')
    await core.createNamespacedConfigMap({ namespace, body: { metadata, data: { n: metadata.labels.n ?? '' } } });
  else if (kind === 'Secret')
    await core.createNamespacedSecret({ namespace, body: { metadata, stringData: { n: metadata.labels.n ?? '' } } });
  else await core.createNamespacedServiceAccount({ namespace, body: { metadata } });
}

async function replace(
  core: CoreV1Api,
  kind: KindName,
  namespace: string,
  name: string,
  metadata: { name: string; labels: Record<string, string> },
) {
  if (kind === 'ConfigMap')
    await core.replaceNamespacedConfigMap({ namespace, name, body: { metadata, data: { n: metadata.labels.n ?? '' } } });
  else if (kind === 'Secret')
    await core.replaceNamespacedSecret({ namespace, name, body: { metadata, stringData: { n: metadata.labels.n ?? '' } } });
  else await core.replaceNamespacedServiceAccount({ namespace, name, body: { metadata } });
}

async function remove(core: CoreV1Api, kind: KindName, namespace: string, name: string) {
  if (kind === 'ConfigMap') await core.deleteNamespacedConfigMap({ namespace, name });
  else if (kind === 'Secret') await core.deleteNamespacedSecret({ namespace, name });
  else await core.deleteNamespacedServiceAccount({ namespace, name });
}
