/**
 * scale: on a real control plane, 500 watches in one process, one per namespace (each with 2
 * ConfigMaps): kwatch over HTTP/2 (the default), kwatch with `http2: false`, and 500 client-node
 * informers. Per implementation: time until every watch has synced, established TCP connections to
 * the apiserver, RSS once synced and peak RSS, and CPU while idle (10 s of watching with no
 * changes). Read from /proc for the peer's process; implementations alternate run by run.
 *
 * Shared mode (`scale-shared`): 500 subscribers over 50 (ConfigMap, namespace) pairs, 10 per pair: kwatch's
 * InformerFactory (a stream per subscriber), 500 client-node informers, and client-go's SharedInformerFactory
 * (one per namespace, 500 event handlers). Also the watch requests the apiserver holds open for the peer
 * (`apiserver_longrunning_requests{verb="WATCH",resource="configmaps"}` of its /metrics, while idle).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ControlPlane, startControlPlane, tcpConnectionsTo } from '@kwatch/testenv';
import { Pool } from 'undici';
import { Writer } from './cluster.ts';
import { PeerProcess } from './peer-process.ts';
import { buildPeer, peerCommand } from './peers/build.ts';
import { cpuSeconds, peakRssMB, rssMB } from './procstat.ts';
import { median } from './stats.ts';

export async function runScale(
  options: {
    watches?: number;
    rounds?: number;
    impls?: readonly string[];
    log?: (s: string) => void;
    /** Shared mode: `watches` subscribers over this many namespaces. */
    pairs?: number;
  } = {},
): Promise<object[]> {
  const watches = options.watches ?? 500;
  const pairs = options.pairs;
  const namespaces = pairs ?? watches;
  const perNamespace = 2;
  const idleSeconds = 10;
  const rounds = options.rounds ?? 3;
  const impls =
    options.impls ??
    (pairs ? ['kwatch-informers', 'client-node-informers', 'client-go'] : ['kwatch', 'kwatch-http1', 'client-node']);
  if (impls.includes('client-go')) await buildPeer('client-go');
  const log = options.log ?? ((s: string) => console.error(`bench scale: ${s}`));
  const cp = await startControlPlane({ onProgress: log });
  const port = Number(new URL(cp.server).port);
  const writer = new Writer(cp, 16);
  const prefix = 'scale';
  const samples = new Map<string, Array<Record<string, number>>>();
  try {
    await writer.many(namespaces, 16, (i) => writer.createNamespace(`${prefix}-${i}`));
    await writer.many(namespaces * perNamespace, 32, (i) => writer.createConfigMap(`${prefix}-${i % namespaces}`, i));
    log(`created ${namespaces} namespaces with ${perNamespace} ConfigMaps each`);
    // The apiserver's own ConfigMap watches (its informers), subtracted from the peers' counts.
    const baseline = pairs ? await openWatches(cp) : 0;
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        const [cmd, lead] = impl === 'client-go' ? peerCommand('client-go') : [process.execPath, []];
        const args =
          impl === 'client-go'
            ? [...lead, 'scale-shared', prefix, String(pairs), String(watches)]
            : [
                '--conditions=@kwatch/source',
                join(import.meta.dirname, 'peers', 'node', 'scale.ts'),
                impl,
                prefix,
                String(watches),
                String(perNamespace),
                ...(pairs ? [String(pairs)] : []),
              ];
        const peer = new PeerProcess(impl, cmd, args, { KUBECONFIG: cp.kubeconfigPath });
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
            ...(pairs ? { watchRequests: (await openWatches(cp)) - baseline } : {}),
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
      scenario: pairs ? 'scale-shared' : 'scale',
      impl,
      ...(pairs ? { subscribers: watches, pairs, watchRequests: m('watchRequests') } : { watches }),
      syncMs: Math.round(m('syncMs')),
      connections: m('connections'),
      rssMB: m('rssMB'),
      peakRssMB: m('peakRssMB'),
      idleCpuPct: Number(m('idleCpuPct').toFixed(1)),
      rounds,
    };
  });
}

/** Watches of ConfigMaps the apiserver holds open (its /metrics); only the peer watches ConfigMaps. */
async function openWatches(cp: ControlPlane): Promise<number> {
  const { tls } = cp.state;
  const pool = new Pool(cp.server, {
    connect: { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
  });
  try {
    const res = await pool.request({ method: 'GET', path: '/metrics' });
    const text = await res.body.text();
    let n = 0;
    for (const line of text.split('\n')) {
      if (
        line.startsWith('apiserver_longrunning_requests{') &&
        line.includes('resource="configmaps"') &&
        line.includes('verb="WATCH"')
      ) {
        n += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return n;
  } finally {
    await pool.close();
  }
}
