import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kwatch/models';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane, installCRD } from '@kwatch/testenv';
import { describe, expect, inject, it } from 'vitest';
import { EventListener, StreamWatch } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function freshNamespace(): Promise<string> {
  const name = `sw-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

describe('StreamWatch', () => {
  it('dispatches to listeners (a throwing one hurts nobody), serves /healthz and /readyz on localhost, and stops', async () => {
    const ns = await freshNamespace();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'existing' } } });
    const seen: string[] = [];
    class Collect extends EventListener<ConfigMap> {
      override create(o: ConfigMap) {
        seen.push(`create ${o.metadata?.name}`);
      }
      override delete(o: ConfigMap) {
        seen.push(`delete ${o.metadata?.name}`);
      }
    }
    class Throws extends EventListener<ConfigMap> {
      override create(): never {
        throw new Error('boom');
      }
    }
    const failures: unknown[] = [];
    const sw = new StreamWatch(ConfigMap, [Throws, new Collect()], {
      namespace: ns,
      kubeConfig: cp.kubeConfig,
      onListenerError: (e) => failures.push(e),
    });
    const running = sw.run({ healthcheckPort: 0 });
    while (!sw.healthUrl) await sleep(10);
    expect(sw.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const deadline = Date.now() + 10_000;
    while (!seen.includes('create existing') && Date.now() < deadline) await sleep(20);
    const ready = await fetch(`${sw.healthUrl}/readyz`);
    expect(ready.status).toBe(200);
    const healthz = await fetch(`${sw.healthUrl}/healthz`);
    expect(healthz.status).toBe(200);
    const body = (await healthz.json()) as { watches: Array<{ name: string; state: string }> };
    expect(body.watches[0]).toMatchObject({ name: 'configmaps', state: 'watching' });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new' } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'new' });
    while (!seen.includes('delete new') && Date.now() < deadline) await sleep(20);
    expect(seen).toEqual(['create existing', 'create new', 'delete new']);
    expect(failures).toHaveLength(2);
    const url = sw.healthUrl;
    const t0 = performance.now();
    sw.stop();
    await running;
    expect(performance.now() - t0).toBeLessThan(500);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('ends run() with the error when the watch cannot go on (403), instead of hanging', async () => {
    const sw = new StreamWatch(ConfigMap, [], { namespace: 'default', kubeConfig: cp.kubeConfigFor('restricted') });
    await expect(sw.run()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('watches a target from a CRD YAML file, across all namespaces, for `timeoutSeconds`', async () => {
    const file = join(import.meta.dirname, '../../models/test/fixtures/crontab-crd.yaml');
    const crd = await installCRD(cp, readFileSync(file, 'utf8'));
    const ns = await freshNamespace();
    await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...crd,
      namespace: ns,
      body: {
        apiVersion: 'stable.example.com/v1',
        kind: 'CronTab',
        metadata: { name: 'from-yaml' },
        spec: { cronSpec: '* * * * *' },
      },
    });
    const names: string[] = [];
    class Names extends EventListener<KubernetesObject> {
      override create(o: KubernetesObject) {
        names.push(`${o.metadata?.namespace}/${o.metadata?.name}`);
      }
    }
    const t0 = Date.now();
    await StreamWatch.fromCRDFile(file, [new Names()], { kubeConfig: cp.kubeConfig }).run({ timeoutSeconds: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    expect(names).toContain(`${ns}/from-yaml`);
  });
});
