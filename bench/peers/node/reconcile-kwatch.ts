/**
 * Reconcile benchmark peer: kwatch's Controller over ConfigMaps in one namespace, concurrency 4. Its reconcile makes
 * no API call: it reads the object from the cache and records now − data.t for objects whose `t` is set. Prints
 * `ready`, `synced <n>` once every listed object was reconciled, then `done <reconciles> <p50ms> <p99ms>` once all
 * `updates` updated objects were reconciled with their (single) update's t. See protocol.ts.
 */
import { Controller } from '@kwatch/controller';
import { ConfigMap } from '@kwatch/models/v1/ConfigMap';
import { args, say, waitForStdinEnd } from './protocol.ts';

const { namespace, objects, updates } = args();
const seen = new Set<string>();
const updated = new Set<string>();
const latencies: number[] = [];
let reconciles = 0;
let synced = false;
const stop = new AbortController();
const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const controller = new Controller(ConfigMap, {
  namespace,
  concurrency: 4,
  reconcile: ({ key, object }) => {
    reconciles += 1;
    if (!synced) {
      seen.add(key);
      if (seen.size === objects) {
        synced = true;
        say(`synced ${seen.size}`);
      }
    }
    const t = object?.data?.t;
    if (t === undefined) return;
    latencies.push(Date.now() - Number(t));
    updated.add(key);
    if (updated.size === updates) {
      const sorted = latencies.sort((a, b) => a - b);
      say(`done ${reconciles} ${percentile(sorted, 0.5)} ${percentile(sorted, 0.99)}`);
      stop.abort();
    }
    return;
  },
});
say('ready');
try {
  await controller.run({ signal: stop.signal });
} finally {
  await waitForStdinEnd();
}
