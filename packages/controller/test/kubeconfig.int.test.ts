// A controller on kwatch's own kubeconfig (readKubeconfig, no client-node): it reconciles, writes, and its watches and
// writes share one connection to the apiserver.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { attachControlPlane, tcpConnectionIdsTo } from '@kwatch/testenv';
import { readKubeconfig } from '@kwatch/watch-core';
import { expect, inject, it } from 'vitest';
import { Controller } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

it("takes kwatch's own kubeconfig; its watch and its writes use one connection", async () => {
  const ns = `kc-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (const name of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
  const port = Number(new URL(cp.server).port);
  const before = tcpConnectionIdsTo(port);
  const labelled = new Set<string>();
  const controller = new Controller(ConfigMap, {
    kubeConfig: readKubeconfig({ path: cp.kubeconfigPath }),
    namespace: ns,
    concurrency: 3,
    reconcile: async ({ name, object, client, signal }) => {
      if (object?.metadata?.labels?.seen === 'yes') {
        labelled.add(name);
        return;
      }
      await client.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
        body: { metadata: { labels: { seen: 'yes' } } },
        signal,
      });
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  try {
    const deadline = Date.now() + 20_000;
    while (labelled.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([...labelled].sort()).toEqual(['a', 'b', 'c']); // each reconciled again after its own write, seeing it
    const opened = [...tcpConnectionIdsTo(port)].filter((id) => !before.has(id));
    expect(opened.length).toBe(1);
  } finally {
    stop.abort();
    await done;
  }
});
