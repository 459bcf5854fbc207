/**
 * reconcile: on a real control plane, N ConfigMaps in one namespace reconciled by a controller (concurrency 4, no API
 * call in the reconcile), then M distinct objects updated with data.t = Date.now() by 16 writers; each peer reports
 * change→reconcile latency p50/p99 and its reconcile count. CPU and RSS are read from /proc, as for sync. Peers speak
 * the line protocol of bench/peers/node/protocol.ts (`done <reconciles> <p50ms> <p99ms>` here).
 */
import { startControlPlane } from '@kwatch/testenv';
import { Writer } from './cluster.ts';
import { PeerProcess } from './peer-process.ts';
import { buildPeer, nodePeer, peerCommand } from './peers/build.ts';
import { cpuSeconds, peakRssMB, rssMB } from './procstat.ts';
import { median } from './stats.ts';

const IMPLS = ['kwatch', 'controller-runtime', 'kube-rs'] as const;
type Impl = (typeof IMPLS)[number];

interface Sample {
  syncMs: number;
  syncCpuSec: number;
  updatesMs: number;
  reconcilesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  updatesCpuSec: number;
  peakRssMB: number;
  syncedRssMB: number;
}

export async function runReconcile(
  options: { objects?: number; updates?: number; rounds?: number; impls?: readonly Impl[]; log?: (s: string) => void } = {},
): Promise<object[]> {
  const objects = options.objects ?? 10_000;
  const updates = Math.min(options.updates ?? 5_000, objects);
  const rounds = options.rounds ?? 3;
  const impls = options.impls ?? IMPLS;
  const log = options.log ?? ((s: string) => console.error(`bench reconcile: ${s}`));
  if (impls.includes('controller-runtime')) await buildPeer('controller-runtime');
  if (impls.includes('kube-rs')) await buildPeer('kube-rs');
  log('starting a control plane');
  const cp = await startControlPlane({ onProgress: log });
  const writer = new Writer(cp, 16);
  const samples = new Map<Impl, Sample[]>();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        // A fresh namespace per run: no object carries a `t` from an earlier run.
        const ns = `bench-reconcile-${r}-${impl}`;
        await writer.createNamespace(ns);
        await writer.many(objects, 32, (i) => writer.createConfigMap(ns, i));
        const [cmd, lead] = impl === 'kwatch' ? nodePeer('reconcile-kwatch.ts', 'controller') : peerCommand(impl, 'reconcile');
        const peer = new PeerProcess(impl, cmd, [...lead, ns, String(objects), String(updates)], {
          KUBECONFIG: cp.kubeconfigPath,
        });
        try {
          const pid = peer.child.pid as number;
          await peer.expect('ready');
          const tReady = performance.now();
          const cpuReady = cpuSeconds(pid);
          const [synced] = await peer.expect('synced');
          if (Number(synced) !== objects) throw new Error(`${impl} synced ${synced} of ${objects} objects`);
          const tSynced = performance.now();
          const cpuSynced = cpuSeconds(pid);
          const syncedRss = rssMB(pid);
          await writer.many(updates, 16, (i) =>
            writer.send('PATCH', `/api/v1/namespaces/${ns}/configmaps/cm-${i}`, { data: { t: String(Date.now()) } }),
          );
          const [reconciles, p50, p99] = await peer.expect('done');
          const tDone = performance.now();
          const sample: Sample = {
            syncMs: tSynced - tReady,
            syncCpuSec: cpuSynced - cpuReady,
            updatesMs: tDone - tSynced,
            reconcilesPerSec: (Number(reconciles) - objects) / ((tDone - tSynced) / 1000),
            p50Ms: Number(p50),
            p99Ms: Number(p99),
            updatesCpuSec: cpuSeconds(pid) - cpuSynced,
            peakRssMB: peakRssMB(pid),
            syncedRssMB: syncedRss,
          };
          samples.set(impl, [...(samples.get(impl) ?? []), sample]);
          log(
            `round ${r + 1} ${impl}: ${JSON.stringify(sample, (_k, x) => (typeof x === 'number' ? Math.round(x * 100) / 100 : x))}`,
          );
        } finally {
          await peer.finish();
        }
      }
    }
  } finally {
    await writer.close();
    await cp.stop();
  }
  return impls.map((impl) => {
    const s = samples.get(impl) ?? [];
    const m = (f: (x: Sample) => number) => median(s.map(f));
    return {
      scenario: 'reconcile',
      impl,
      objects,
      updates,
      syncMs: Math.round(m((x) => x.syncMs)),
      syncCpuSec: Number(m((x) => x.syncCpuSec).toFixed(2)),
      updatesMs: Math.round(m((x) => x.updatesMs)),
      reconcilesPerSec: Math.round(m((x) => x.reconcilesPerSec)),
      p50Ms: m((x) => x.p50Ms),
      p99Ms: m((x) => x.p99Ms),
      updatesCpuSec: Number(m((x) => x.updatesCpuSec).toFixed(2)),
      peakRssMB: m((x) => x.peakRssMB),
      syncedRssMB: m((x) => x.syncedRssMB),
      rounds,
    };
  });
}
