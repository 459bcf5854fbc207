/**
 * mux-fairness: one MultiplexingWatcher over a flooding kind (Pods, as fast as they are pulled)
 * and a quiet kind (a ConfigMap every 50 ms). Reports the quiet kind's delivery latency and
 * the process's peak RSS, with a fast consumer and with a slow one (1 ms per event).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap, Pod } from '@kwatch/models/v1';
import { MultiplexingWatcher, type StreamBody, Watcher, type WatchTransport } from '@kwatch/watch-core';
import { podEvent } from './fixtures.ts';

function transport(body: () => AsyncGenerator<Uint8Array>): WatchTransport {
  return {
    getJson: async () => ({ metadata: { resourceVersion: '1' }, items: [] }),
    openStream: async (): Promise<StreamBody> => {
      const gen = body();
      return { close: () => void gen.return(undefined), [Symbol.asyncIterator]: () => gen };
    },
  };
}

const flood = transport(async function* () {
  const chunk = Buffer.from(Array.from({ length: 16 }, (_, i) => podEvent(i)).join(''));
  for (;;) {
    // Like socket data: each chunk arrives in a callback of its own, never a microtask-only loop.
    await new Promise((resolve) => setImmediate(resolve));
    yield chunk;
  }
});
const quiet = transport(async function* () {
  for (let i = 0; ; i++) {
    await sleep(50);
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `q${i}`, resourceVersion: String(i + 2), annotations: { t: String(performance.now()) } },
    };
    yield Buffer.from(`${JSON.stringify({ type: 'ADDED', object })}\n`);
  }
});

export async function runMuxFairness(seconds = 5): Promise<object[]> {
  const rows: object[] = [];
  for (const consumer of ['fast', 'slow'] as const) {
    const mux = new MultiplexingWatcher()
      .addWatcher(new Watcher(Pod, { transport: flood, resourceVersion: '1' }))
      .addWatcher(new Watcher(ConfigMap, { transport: quiet, resourceVersion: '1' }));
    const latencies: number[] = [];
    let pods = 0;
    let peakRss = process.memoryUsage().rss;
    const baseRss = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const end = performance.now() + seconds * 1000;
    for await (const e of mux.stream()) {
      if (e.kind === 'ConfigMap' && !e.tombstone) latencies.push(performance.now() - Number(e.object.metadata?.annotations?.t));
      else pods += 1;
      if (consumer === 'slow') await sleep(1);
      if (performance.now() > end) break;
    }
    clearInterval(sampler);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      Number((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN).toFixed(2));
    rows.push({
      scenario: 'mux-fairness',
      impl: 'kwatch',
      consumer,
      seconds,
      floodEventsPerSec: Math.round(pods / seconds),
      quietEvents: latencies.length,
      quietP50Ms: pct(0.5),
      quietP99Ms: pct(0.99),
      peakRssMB: Math.round(peakRss / 2 ** 20),
      rssGrowthMB: Math.round((peakRss - baseRss) / 2 ** 20),
    });
  }
  return rows;
}
