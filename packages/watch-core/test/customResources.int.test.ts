import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { resourceFromCRD } from '@kwatch/models';
import { installCRD } from '@kwatch/testenv';
import { beforeAll, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { Collector, cp, freshNamespace } from './helpers.ts';

const crdYaml = readFileSync(join(import.meta.dirname, '../../models/test/fixtures/crontab-crd.yaml'), 'utf8');
const CronTab = resourceFromCRD(crdYaml);
const objects = cp.kubeConfig.makeApiClient(CustomObjectsApi);

beforeAll(async () => {
  await installCRD(cp, crdYaml);
});

async function createCronTab(namespace: string, name: string) {
  await objects.createNamespacedCustomObject({
    group: 'stable.example.com',
    version: 'v1',
    plural: 'crontabs',
    namespace,
    body: {
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      metadata: { name },
      spec: { cronSpec: '* * * * */5', image: 'x' },
    },
  });
}

it('watches a namespaced custom resource from a CRD within one namespace and across all namespaces', async () => {
  const [ns1, ns2] = [await freshNamespace('crd'), await freshNamespace('crd')];
  await createCronTab(ns1, 'one');
  const inNs = new Watcher(CronTab, { namespace: ns1, kubeConfig: cp.kubeConfig });
  const everywhere = new Watcher(CronTab, { kubeConfig: cp.kubeConfig });
  const a = new Collector(inNs.stream());
  const b = new Collector(everywhere.stream());
  await a.until((x) => x.lines.includes('ADDED one'));
  await createCronTab(ns2, 'two');
  await b.until((x) => x.lines.includes('ADDED one') && x.lines.includes('ADDED two'));
  await createCronTab(ns1, 'three');
  await a.until((x) => x.lines.includes('ADDED three'));
  expect(a.lines).toEqual(['ADDED one', 'ADDED three']);
  const obj = (a.items[0] as { object: { spec?: { cronSpec?: string }; metadata?: { namespace?: string } } }).object;
  expect(obj.spec?.cronSpec).toBe('* * * * */5');
  expect(obj.metadata?.namespace).toBe(ns1);
  inNs.stop();
  everywhere.stop();
  await Promise.all([a.done, b.done]);
  expect([a.error, b.error]).toEqual([undefined, undefined]);
});
