/**
 * metadata: what a metadata-only watch saves, with Pods on the real control plane — bytes on the
 * wire for the initial LIST, sync time and CPU of a Watcher, and the heap a Store holds, with full
 * objects and with `metadataOnly: true`. 2,000 realistic Pods (Pending: the control plane has no
 * scheduler), in one process (the same for both, alternating; medians of `rounds`).
 */

import { Pod } from '@kwatch/models/v1/Pod';
import { startControlPlane } from '@kwatch/testenv';
import { KubeClient, readKubeconfig, Store, Watcher } from '@kwatch/watch-core';
import { Writer } from './cluster.ts';
import { median } from './stats.ts';

const NAMESPACE = 'metadata-bench';

function podSpec(i: number): object {
  return {
    metadata: {
      name: `web-${i}`,
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '7d9f8c6b5d' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-22T02:59:00Z' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/web:1.2.3',
          args: ['--port=8080', '--log-level=info'],
          ports: [{ containerPort: 8080, name: 'http' }],
          env: Array.from({ length: 8 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${i}` })),
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
        },
      ],
    },
  };
}

function heap(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

async function wireBytes(client: KubeClient, accept: string | undefined): Promise<number> {
  const body = await client.stream({
    path: `/api/v1/namespaces/${NAMESPACE}/pods`,
    ...(accept ? { accept } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.byteLength;
  return bytes;
}

async function syncOnce(client: KubeClient, metadataOnly: boolean): Promise<{ ms: number; cpuMs: number; heapMB: number }> {
  const before = heap();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const watcher = new Watcher(Pod, { namespace: NAMESPACE, transport: client, metadataOnly, watchList: false });
  const store = new Store<object>();
  for await (const e of watcher.stream({ markers: true })) {
    store.apply(e as never);
    if (e.type === 'SYNCED') break;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const heapMB = (heap() - before) / 2 ** 20;
  if (store.size === 0) throw new Error('nothing synced');
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, heapMB };
}

export async function runMetadata(o: { rounds?: number; objects?: number } = {}): Promise<object[]> {
  if (!globalThis.gc) throw new Error('run with node --expose-gc (pnpm bench does)');
  const rounds = o.rounds ?? 3;
  const objects = o.objects ?? 2000;
  const log = (m: string) => process.stderr.write(`[metadata] ${m}\n`);
  const cp = await startControlPlane({ onProgress: log });
  try {
    const writer = new Writer(cp, 8);
    await writer.createNamespace(NAMESPACE);
    await writer.send('POST', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, { metadata: { name: 'default' } });
    await writer.many(objects, 16, (i) => writer.send('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, podSpec(i)));
    await writer.close();
    log(`created ${objects} Pods`);
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath }) });
    const runs: Record<string, Array<{ ms: number; cpuMs: number; heapMB: number }>> = { full: [], metadata: [] };
    const bytes = {
      full: await wireBytes(client, undefined),
      metadata: await wireBytes(client, 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'),
    };
    await syncOnce(client, false); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const mode of r % 2 === 0 ? (['full', 'metadata'] as const) : (['metadata', 'full'] as const)) {
        runs[mode]?.push(await syncOnce(client, mode === 'metadata'));
      }
    }
    return (['full', 'metadata'] as const).map((mode) => {
      const rs = runs[mode] ?? [];
      return {
        scenario: 'metadata',
        impl: 'kwatch',
        mode,
        objects,
        listBytes: bytes[mode],
        bytesPerObject: Math.round(bytes[mode] / objects),
        syncMs: Math.round(median(rs.map((x) => x.ms))),
        syncCpuMs: Math.round(median(rs.map((x) => x.cpuMs))),
        storeHeapMB: Number(median(rs.map((x) => x.heapMB)).toFixed(1)),
        rounds,
      };
    });
  } finally {
    await cp.stop();
  }
}
