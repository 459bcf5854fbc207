/**
 * recovery: on a real control plane, with a fault proxy in front of it,
 *  - stop latency: from `stop()` (kwatch) or `abort()` (client-node's Watch) until the stream has
 *    ended, while watching an idle namespace and (kwatch) while backing off after failures;
 *  - cut → first event: every watch connection is cut and a ConfigMap is created at once; the time
 *    until its ADDED reaches the consumer, beside the backoff delay the watcher chose (kwatch's first
 *    step is uniform in [10 ms, 800 ms]; client-node's informer waits a fixed 1 s).
 */
import { CoreV1Api, makeInformer, type V1ConfigMap, Watch } from '@kubernetes/client-node';
import { startControlPlane, startFaultProxy } from '@kwatch/testenv';
import { Watcher } from '@kwatch/watch-core';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Writer } from './cluster.ts';
import { latencySummary } from './stats.ts';

export async function runRecovery(options: { rounds?: number; log?: (s: string) => void } = {}): Promise<object[]> {
  const reps = (options.rounds ?? 3) * 5;
  const log = options.log ?? ((s: string) => console.error(`bench recovery: ${s}`));
  const cp = await startControlPlane({ onProgress: log });
  const proxy = await startFaultProxy(cp);
  const writer = new Writer(cp, 4);
  const rows: object[] = [];
  try {
    const ns = 'bench-recovery';
    await writer.createNamespace(ns);
    let n = 0;
    const create = () => writer.send('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: `r-${n++}` } });
    await create();

    // Stop latency while watching.
    const kwatchStop: number[] = [];
    for (let i = 0; i < reps; i++) {
      const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig: cp.kubeConfig });
      const stream = watcher.stream({ markers: true });
      for await (const e of stream) if (e.type === 'SYNCED') break;
      const again = watcher.stream(); // a second, live stream, stopped while idle
      const ended = (async () => {
        for await (const _ of again);
      })();
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      watcher.stop();
      await ended;
      kwatchStop.push(performance.now() - t0);
    }
    rows.push({ scenario: 'recovery', impl: 'kwatch', measure: 'stop while watching', ...latencySummary(kwatchStop) });

    const cnStop: number[] = [];
    for (let i = 0; i < reps; i++) {
      let done!: () => void;
      const ended = new Promise<void>((resolve) => {
        done = resolve;
      });
      const ctl = await new Watch(cp.kubeConfig).watch(
        `/api/v1/namespaces/${ns}/configmaps`,
        {},
        () => {},
        () => done(),
      );
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      ctl.abort();
      await ended;
      cnStop.push(performance.now() - t0);
    }
    rows.push({ scenario: 'recovery', impl: 'client-node', measure: 'stop while watching', ...latencySummary(cnStop) });

    // Stop latency while backing off (every request fails with 500 meanwhile).
    const backoffStop: number[] = [];
    for (let i = 0; i < reps; i++) {
      proxy.failNext({ status: 500 }, 1000);
      let backingOff!: () => void;
      const inBackoff = new Promise<void>((resolve) => {
        backingOff = resolve;
      });
      const watcher = new Watcher(ConfigMap, {
        namespace: ns,
        kubeConfig: proxy.kubeConfig(),
        backoff: { initialMs: 5_000 },
        hooks: { reconnecting: () => backingOff() },
      });
      const ended = (async () => {
        for await (const _ of watcher.stream());
      })();
      await inBackoff;
      const t0 = performance.now();
      watcher.stop();
      await ended;
      backoffStop.push(performance.now() - t0);
      proxy.clearFailures();
    }
    rows.push({ scenario: 'recovery', impl: 'kwatch', measure: 'stop while backing off', ...latencySummary(backoffStop) });

    // Cut → first event.
    const cutKwatch: number[] = [];
    const chosen: number[] = [];
    // A fresh watcher each time: repeated cuts within two minutes escalate the backoff (800 ms, 1.6 s, …,
    // as client-go's reflector does), and this measures a cut after a healthy period.
    for (let i = 0; i < reps; i++) {
      const watcher = new Watcher(ConfigMap, {
        namespace: ns,
        kubeConfig: proxy.kubeConfig(),
        hooks: { reconnecting: (r) => chosen.push(r.delayMs) },
      });
      const it = watcher.stream({ markers: true })[Symbol.asyncIterator]();
      for (;;) if ((await it.next()).value?.type === 'SYNCED') break;
      const name = `r-${n}`;
      const t0 = performance.now();
      proxy.cut();
      await create();
      for (;;) {
        const { value } = await it.next();
        if (value && value.type === 'ADDED' && value.object.metadata?.name === name) break;
      }
      cutKwatch.push(performance.now() - t0);
      watcher.stop();
      await it.return?.();
    }
    rows.push({
      scenario: 'recovery',
      impl: 'kwatch',
      measure: 'cut → first event',
      ...latencySummary(cutKwatch),
      backoffP50Ms: latencySummary(chosen).p50Ms,
      overMs: latencySummary(cutKwatch.map((x, i) => x - (chosen[i] ?? 0))).p50Ms,
    });

    const cutCn: number[] = [];
    {
      const kc = proxy.kubeConfig();
      const api = kc.makeApiClient(CoreV1Api);
      const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () =>
        api.listNamespacedConfigMap({ namespace: ns }),
      );
      const waiters = new Map<string, () => void>();
      informer.on('add', (cm) => waiters.get(cm.metadata?.name ?? '')?.());
      let stopped = false;
      // client-node's documented restart after an error, as its examples do.
      informer.on('error', () => setTimeout(() => stopped || void informer.start(), 1000));
      await informer.start();
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < reps; i++) {
        const name = `r-${n}`;
        const seen = new Promise<void>((resolve) => waiters.set(name, resolve));
        const t0 = performance.now();
        proxy.cut();
        await create();
        await seen;
        cutCn.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 200));
      }
      stopped = true;
      await informer.stop();
    }
    rows.push({ scenario: 'recovery', impl: 'client-node', measure: 'cut → first event', ...latencySummary(cutCn) });
  } finally {
    await writer.close();
    await proxy.stop();
    await cp.stop();
  }
  return rows;
}
