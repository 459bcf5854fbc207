import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { type ControlPlane, startControlPlane } from '@kwatch/testenv';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { Collector } from './helpers.ts';

// A second, real control plane whose WatchList feature gate is off: sendInitialEvents gets 422.
let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane({ extraApiserverFlags: ['--feature-gates=WatchList=false'] });
}, 180_000);
afterAll(async () => {
  await cp?.stop();
});

it('falls back from WatchList to a paginated LIST by itself when the server refuses it', async () => {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of ['a', 'b', 'c'])
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } });
  const via: string[] = [];
  const errors: string[] = [];
  const watcher = new Watcher(ConfigMap, {
    namespace: 'default',
    kubeConfig: cp.kubeConfig,
    hooks: { relisted: (i) => via.push(i.via), error: (e) => errors.push(e.message) },
  });
  const c = new Collector(watcher.stream({ markers: true }));
  await c.until((x) => x.lines.includes('SYNCED'));
  expect(c.lines.filter((l) => l.startsWith('ADDED')).sort()).toEqual(
    ['ADDED a', 'ADDED b', 'ADDED c', 'ADDED kube-root-ca.crt'].filter((l) => c.lines.includes(l)),
  );
  expect(c.lines).toContain('ADDED a');
  expect(via).toEqual(['list']);
  expect(errors[0]).toContain('sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled');
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'd' } } });
  await c.until((x) => x.lines.includes('ADDED d'));
  watcher.stop();
  await c.done;
  expect(c.error).toBeUndefined();
});
