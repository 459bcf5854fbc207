// Deletions on the real control plane: the reconcile after an object goes is prompt, not held by read-your-writes.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane } from '@kwatch/testenv';
import { expect, inject, it } from 'vitest';
import { Controller } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function namespace(): Promise<string> {
  const name = `del-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('removing our finalizer lets the object go: its next reconcile sees it gone at once, not after readYourWritesTimeoutMs', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'f' } } });
  const gone: number[] = [];
  let present = 0;
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    readYourWritesTimeoutMs: 5000,
    finalizer: { name: 'kwatch.example.com/f', cleanup: () => {} },
    reconcile: ({ object }) => {
      if (object) present += 1;
      else gone.push(Date.now());
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('the first reconcile', () => present >= 1);
  await new Promise((r) => setTimeout(r, 300)); // the finalizer's own change reconciled too
  const deletedAt = Date.now();
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'f' });
  await until('reconciled as gone', () => gone.length > 0, 15_000);
  stop.abort();
  await done;
  expect((gone[0] as number) - deletedAt).toBeLessThan(2500);
  expect(controller.stats.serverReads).toBe(0);
});

it('an object deleted by another client right after a reconcile wrote to it: the next reconcile sees it gone at once', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'w' } } });
  const gone: number[] = [];
  let writes = 0;
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    readYourWritesTimeoutMs: 5000,
    reconcile: async ({ object, client, signal, name }) => {
      if (!object) {
        gone.push(Date.now());
        return undefined;
      }
      if (object.metadata?.annotations?.seen) return undefined;
      await client.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { seen: 'yes' } } },
        signal,
      });
      writes += 1;
      await core.deleteNamespacedConfigMap({ namespace: ns, name }); // someone else deletes it meanwhile
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('the write', () => writes === 1);
  const deletedAt = Date.now();
  await until('reconciled as gone', () => gone.length > 0, 15_000);
  stop.abort();
  await done;
  expect((gone[0] as number) - deletedAt).toBeLessThan(2500);
  expect(controller.stats.serverReads).toBe(0);
});
