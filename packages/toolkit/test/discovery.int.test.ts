import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { attachControlPlane, installCRD } from '@kwatch/testenv';
import { KindError, Watcher } from '@kwatch/watch-core';
import { expect, inject, it } from 'vitest';
import { Discovery, discoverResource } from '../src/index.ts';
import { gadgetCrd } from './fixtures/gadgetCrd.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));

it('resolves built-in names against the real discovery as kubectl does', async () => {
  const discovery = new Discovery(cp.kubeConfig);
  const table: Array<[string, string]> = [
    ['po', 'v1 pods'],
    ['deploy', 'apps/v1 deployments'],
    ['deployment.apps', 'apps/v1 deployments'],
    ['Deployment', 'apps/v1 deployments'],
    ['deployments.v1.apps', 'apps/v1 deployments'],
    ['hpa', 'autoscaling/v2 horizontalpodautoscalers'],
    ['horizontalpodautoscalers.v1.autoscaling', 'autoscaling/v1 horizontalpodautoscalers'],
    ['events', 'v1 events'],
    ['events.events.k8s.io', 'events.k8s.io/v1 events'],
    ['cm', 'v1 configmaps'],
  ];
  for (const [name, expected] of table) {
    const r = await discovery.resolve(name);
    expect(`${name} → ${r.apiVersion} ${r.plural}`).toBe(`${name} → ${expected}`);
  }
  await expect(discovery.resolve('pdos')).rejects.toThrow(KindError);
  await expect(discovery.resolve('pdos')).rejects.toThrow(/did you mean pods/);
});

it('a custom resource installed in the cluster: found by plural.group, short name and apiVersion + kind, watched untyped', async () => {
  const group = `kw${randomBytes(3).toString('hex')}.example.com`;
  const shortName = `gdg${randomBytes(3).toString('hex')}`;
  const crd = await installCRD(cp, gadgetCrd(group, shortName));
  const namespace = `disc-${randomBytes(3).toString('hex')}`;
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    ...crd,
    namespace,
    body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 3 } },
  });

  const kubeConfig = cp.kubeConfig;
  const byName = await discoverResource(`gadgets.${group}`, { kubeConfig });
  const byShortName = await discoverResource(shortName, { kubeConfig });
  const byKind = await discoverResource({ apiVersion: `${group}/v1`, kind: 'Gadget' }, { kubeConfig });
  for (const d of [byName, byShortName, byKind])
    expect(d.info).toMatchObject({ group, version: 'v1', plural: 'gadgets', namespaced: true });

  const watcher = new Watcher(byShortName, { namespace, kubeConfig });
  for await (const e of watcher.stream()) {
    expect(e.type).toBe('ADDED');
    expect(e.object.metadata?.name).toBe('g1');
    expect(e.object, JSON.stringify(e.object)).toMatchObject({ spec: { size: 3 } });
    break;
  }
});
