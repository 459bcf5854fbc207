// A controller's metrics in Prometheus text on its health port, as `kwatch --metrics` serves them: the queue's and
// controller-runtime's names, and its informers' watch metrics, scraped over HTTP from the running controller.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane } from '@kwatch/testenv';
import { prometheusMetrics } from '@kwatch/toolkit';
import { expect, inject, it } from 'vitest';
import { Controller } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

it('serves workqueue_*, controller_runtime_* and kwatch_watch_* at /metrics of the health port', async () => {
  const ns = `prom-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (const name of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
  const prometheus = await prometheusMetrics();
  let reconciled = 0;
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    name: 'scraped',
    metrics: { meter: prometheus.meter },
    reconcile: () => {
      reconciled += 1;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal, healthPort: 0, metrics: prometheus.handler });
  try {
    const deadline = Date.now() + 20_000;
    while ((reconciled < 3 || controller.healthUrl === undefined) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${controller.healthUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(line))
          ?.slice(line.length)
          .trim(),
      );
    expect(value('workqueue_adds_total{name="scraped"}')).toBeGreaterThanOrEqual(3);
    expect(value('controller_runtime_reconcile_total{controller="scraped",result="success"}')).toBe(reconciled);
    expect(text).toMatch(/^kwatch_watch_events_total\{[^}]*kind="ConfigMap"[^}]*\} \d+/m);
    expect((await fetch(`${controller.healthUrl}/readyz`)).status).toBe(200);
  } finally {
    stop.abort();
    await done;
    await prometheus.shutdown();
  }
});
