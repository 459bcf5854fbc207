/**
 * latency: on a real control plane, a writer PATCHes ConfigMaps at a steady rate (default 200
 * writes/s), each carrying its send time; a peer process (kwatch's Watcher or client-node's
 * informer) takes, per event, the time from the write being sent to the event reaching its
 * consumer. This includes the apiserver's and etcd's write path, the same for all; `raw` (a bare
 * https watch + JSON.parse) is the floor, and the `apiserver` row is the writes' own round trip.
 * Medians of the per-run p50/p99 over alternating rounds.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane } from '@kwatch/testenv';
import { configData, Writer } from './cluster.ts';
import { PeerProcess } from './peer-process.ts';
import { latencySummary, median } from './stats.ts';

export async function runLatency(
  options: { rate?: number; updates?: number; rounds?: number; impls?: readonly string[]; log?: (s: string) => void } = {},
): Promise<object[]> {
  const rate = options.rate ?? 200;
  const updates = options.updates ?? 2_000;
  const rounds = options.rounds ?? 3;
  const impls = options.impls ?? ['raw', 'kwatch', 'client-node'];
  const log = options.log ?? ((s: string) => console.error(`bench latency: ${s}`));
  const cp = await startControlPlane({ onProgress: log });
  const writer = new Writer(cp, 16);
  const ns = 'bench-latency';
  const objects = 50;
  const samples = new Map<string, Array<{ p50: number; p99: number; max: number }>>();
  try {
    await writer.createNamespace(ns);
    await writer.many(objects, 16, (i) => writer.createConfigMap(ns, i));
    let version = 0;
    let roundTrips: number[] = [];
    /** `count` writes at `rate` per second; `measured` ones carry their send time. */
    const writeAtRate = async (count: number, measured: boolean): Promise<void> => {
      const t0 = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        version += 1;
        // A merge patch keeps keys it does not name: unmeasured writes remove sentAt (null), or a
        // stale one from an earlier round would be taken for this write's.
        const data: Record<string, string | null> = { ...configData(i % objects, version), sentAt: null };
        if (measured) data.sentAt = String(performance.timeOrigin + performance.now());
        const sent = performance.now();
        pending.push(
          writer.send('PATCH', `/api/v1/namespaces/${ns}/configmaps/cm-${i % objects}`, { data }).then(() => {
            if (measured) roundTrips.push(performance.now() - sent);
          }),
        );
      }
      await Promise.all(pending);
    };
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) {
        const peer = new PeerProcess(
          impl,
          process.execPath,
          ['--conditions=@kwatch/source', join(import.meta.dirname, 'peers', 'node', 'latency.ts'), impl, ns, String(updates)],
          { KUBECONFIG: cp.kubeconfigPath },
        );
        try {
          await peer.expect('ready');
          // Warm up (not measured) until the peer sees events, then one more second.
          let isLive = false;
          const live = peer.expect('live').then(() => {
            isLive = true;
          });
          while (!isLive) await writeAtRate(rate / 10, false);
          await live;
          await writeAtRate(rate, false);
          roundTrips = [];
          await writeAtRate(updates, true);
          const rt = latencySummary(roundTrips);
          samples.set('apiserver', [...(samples.get('apiserver') ?? []), { p50: rt.p50Ms, p99: rt.p99Ms, max: rt.maxMs }]);
          const [p50, p99, max] = (await peer.expect('done')).map(Number) as [number, number, number];
          samples.set(impl, [...(samples.get(impl) ?? []), { p50, p99, max }]);
          log(`round ${r + 1} ${impl}: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms`);
        } finally {
          await peer.finish();
        }
      }
    }
  } finally {
    await writer.close();
    await cp.stop();
  }
  return [...impls, 'apiserver'].map((impl) => {
    const s = samples.get(impl) ?? [];
    return {
      scenario: 'latency',
      impl: impl === 'apiserver' ? 'apiserver (write round trip)' : impl,
      writesPerSec: rate,
      events: updates,
      p50Ms: median(s.map((x) => x.p50)),
      p99Ms: median(s.map((x) => x.p99)),
      maxMs: median(s.map((x) => x.max)),
      rounds,
    };
  });
}
