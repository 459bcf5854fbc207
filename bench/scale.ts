/**
 * scale: on a real control plane, 500 watches in one process, one per namespace (each with 2
 * ConfigMaps): kwatch over HTTP/2 (the default), kwatch with `http2: false`, and 500 client-node
 * informers. Per implementation: time until every watch has synced, established TCP connections to
 * the apiserver, RSS once synced and peak RSS, and CPU while idle (10 s of watching with no
 * changes). Read from /proc for the peer's process; implementations alternate run by run.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane, tcpConnectionsTo } from '@kwatch/testenv';
import { Writer } from './cluster.ts';
import { PeerProcess } from './peer-process.ts';
import { cpuSeconds, peakRssMB, rssMB } from './procstat.ts';
import { median } from './stats.ts';

export async function runScale(
  options: { watches?: number; rounds?: number; impls?: readonly string[]; log?: (s: string) => void } = {},
): Promise<object[]> {
  const watches = options.watches ?? 500;
  const perNamespace = 2;
  const idleSeconds = 10;
  const rounds = options.rounds ?? 3;
  const impls = options.impls ?? ['kwatch', 'kwatch-http1', 'client-node'];
  const log = options.log ?? ((s: string) => console.error(`bench scale: ${s}`));
  const cp = await startControlPlane({ onProgress: log });
  const port = Number(new URL(cp.server).port);
  const writer = new Writer(cp, 16);
  const prefix = 'scale';
  const samples = new Map<string, Array<Record<string, number>>>();
  try {
    await writer.many(watches, 16, (i) => writer.createNamespace(`${prefix}-${i}`));
    await writer.many(watches * perNamespace, 32, (i) => writer.createConfigMap(`${prefix}-${i % watches}`, i));
    log(`created ${watches} namespaces with ${perNamespace} ConfigMaps each`);
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        const peer = new PeerProcess(
          impl,
          process.execPath,
          [
            '--conditions=@kwatch/source',
            join(import.meta.dirname, 'peers', 'node', 'scale.ts'),
            impl,
            prefix,
            String(watches),
            String(perNamespace),
          ],
          { KUBECONFIG: cp.kubeconfigPath },
        );
        try {
          const pid = peer.child.pid as number;
          await peer.expect('ready');
          const t0 = performance.now();
          const [objects] = await peer.expect('synced');
          if (Number(objects) !== watches * perNamespace) throw new Error(`${impl} synced ${objects} objects`);
          const syncMs = performance.now() - t0;
          await sleep(2_000); // let the last watches settle
          const cpu0 = cpuSeconds(pid);
          await sleep(idleSeconds * 1000);
          const sample = {
            syncMs,
            connections: tcpConnectionsTo(port, pid),
            rssMB: rssMB(pid),
            peakRssMB: peakRssMB(pid),
            idleCpuPct: ((cpuSeconds(pid) - cpu0) / idleSeconds) * 100,
          };
          samples.set(impl, [...(samples.get(impl) ?? []), sample]);
          log(`round ${r + 1} ${impl}: ${JSON.stringify(sample)}`);
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
    const m = (k: string) => median(s.map((x) => x[k] as number));
    return {
      scenario: 'scale',
      impl,
      watches,
      syncMs: Math.round(m('syncMs')),
      connections: m('connections'),
      rssMB: m('rssMB'),
      peakRssMB: m('peakRssMB'),
      idleCpuPct: Number(m('idleCpuPct').toFixed(1)),
      rounds,
    };
  });
}
