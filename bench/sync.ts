/**
 * sync: on a real control plane (kube-apiserver + etcd, default flags: watch cache on), the
 * initial sync of N ConfigMaps (~1.5 KB each) in one namespace and then M updates observed, for
 * kwatch (Watcher; and Watcher + Store), client-node's informer, client-go's informer
 * (reflector), kube-rs's watcher and the Python client's list + watch; with `--impl`, also Node's floors
 * (`node-floor`: http2 + split + JSON.parse holding nothing; `node-floor-hold`: keeping the objects;
 * `node-floor-iterate`: through an async generator, keeping each object's identity). Each peer is a process of
 * its own speaking the line protocol of bench/peers/node/protocol.ts; its CPU and peak RSS are read
 * from /proc, so every language is measured the same way. Implementations alternate run by run.
 */
import { startControlPlane } from '@kwatch/testenv';
import { Writer } from './cluster.ts';
import { PeerProcess } from './peer-process.ts';
import { type BuiltPeer, buildPeer, nodePeer, peerCommand } from './peers/build.ts';
import { cpuSeconds, peakRssMB, rssMB } from './procstat.ts';
import { median } from './stats.ts';

const IMPLS = ['kwatch', 'kwatch-store', 'kwatch-metadata', 'client-node', 'client-go', 'kube-rs', 'python'] as const;
/** Node's floors (bench/peers/node/floor.ts): run when named with --impl, not by default. */
const FLOORS = ['node-floor', 'node-floor-hold', 'node-floor-iterate'] as const;
type Impl = (typeof IMPLS)[number] | (typeof FLOORS)[number];

function command(impl: Impl): [string, string[]] {
  if (impl.startsWith('kwatch')) return nodePeer('kwatch.ts'); // 'store' or 'metadata' as 4th argument for the others
  if (impl === 'client-node') return nodePeer('client-node.ts');
  if (impl.startsWith('node-floor')) return nodePeer('floor.ts'); // 'hold' or 'iterate' as 4th argument
  return peerCommand(impl as BuiltPeer);
}

interface Sample {
  syncMs: number;
  syncCpuSec: number;
  updatesMs: number;
  lagMs: number;
  updatesCpuSec: number;
  peakRssMB: number;
  readyRssMB: number;
  /** RSS right after the initial state arrived (the objects held by the peer's cache, if any). */
  syncedRssMB: number;
}

export async function runSync(
  options: { objects?: number; updates?: number; rounds?: number; impls?: readonly Impl[]; log?: (s: string) => void } = {},
): Promise<object[]> {
  const objects = options.objects ?? 10_000;
  const updates = options.updates ?? 5_000;
  const rounds = options.rounds ?? 3;
  const impls = options.impls ?? IMPLS;
  const log = options.log ?? ((s: string) => console.error(`bench sync: ${s}`));
  for (const impl of impls) if (['client-go', 'kube-rs', 'python'].includes(impl)) await buildPeer(impl as BuiltPeer);
  log('starting a control plane');
  const cp = await startControlPlane({ onProgress: log });
  const writer = new Writer(cp, 16);
  const ns = 'bench-sync';
  const samples = new Map<Impl, Sample[]>();
  let version = 0;
  try {
    await writer.createNamespace(ns);
    const t0 = performance.now();
    await writer.many(objects, 32, (i) => writer.createConfigMap(ns, i));
    log(`created ${objects} ConfigMaps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        const [cmd, lead] = command(impl);
        const peer = new PeerProcess(
          impl,
          cmd,
          [
            ...lead,
            ns,
            String(objects),
            String(updates),
            ...(impl.startsWith('kwatch-') ? [impl.slice('kwatch-'.length)] : []),
            ...(impl.startsWith('node-floor-') ? [impl.slice('node-floor-'.length)] : []),
          ],
          {
            KUBECONFIG: cp.kubeconfigPath,
          },
        );
        try {
          const pid = peer.child.pid as number;
          await peer.expect('ready');
          const tReady = performance.now();
          const cpuReady = cpuSeconds(pid);
          const readyRss = rssMB(pid);
          const [synced] = await peer.expect('synced');
          if (Number(synced) !== objects) throw new Error(`${impl} synced ${synced} of ${objects} objects`);
          const tSynced = performance.now();
          const cpuSynced = cpuSeconds(pid);
          const syncedRss = rssMB(pid);
          version += 1;
          const v = version;
          await writer.many(updates, 16, (i) => writer.updateConfigMap(ns, i % objects, v));
          const tWritten = performance.now();
          const [modified] = await peer.expect('done');
          if (Number(modified) !== updates) throw new Error(`${impl} observed ${modified} of ${updates} updates`);
          const tDone = performance.now();
          const sample: Sample = {
            syncMs: tSynced - tReady,
            syncCpuSec: cpuSynced - cpuReady,
            updatesMs: tDone - tSynced,
            lagMs: tDone - tWritten,
            updatesCpuSec: cpuSeconds(pid) - cpuSynced,
            peakRssMB: peakRssMB(pid),
            readyRssMB: readyRss,
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
      scenario: 'sync',
      impl,
      objects,
      updates,
      syncMs: Math.round(m((x) => x.syncMs)),
      syncCpuSec: Number(m((x) => x.syncCpuSec).toFixed(2)),
      updatesMs: Math.round(m((x) => x.updatesMs)),
      lagMs: Math.round(m((x) => x.lagMs)),
      updatesCpuSec: Number(m((x) => x.updatesCpuSec).toFixed(2)),
      cpuSecPer100k: Number(((m((x) => x.syncCpuSec + x.updatesCpuSec) / (objects + updates)) * 100_000).toFixed(2)),
      peakRssMB: m((x) => x.peakRssMB),
      readyRssMB: m((x) => x.readyRssMB),
      syncedRssMB: m((x) => x.syncedRssMB),
      rounds,
    };
  });
}
