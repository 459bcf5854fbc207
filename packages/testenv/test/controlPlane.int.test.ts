import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, VersionApi, Watch } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { attachControlPlane } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function freshNamespace(): Promise<string> {
  const name = `tenv-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

/** Collects watch events with client-node's own Watch until `until` says stop or `ms` pass. */
function collectWatch(
  kc = cp.kubeConfig,
  path: string,
  query: Record<string, string | number | boolean>,
  until: (events: Array<{ type: string; object: any }>) => boolean,
  ms = 15_000,
): Promise<Array<{ type: string; object: any }>> {
  return new Promise((resolve, reject) => {
    const events: Array<{ type: string; object: any }> = [];
    let controller: AbortController | undefined;
    const timer = setTimeout(() => {
      controller?.abort();
      resolve(events);
    }, ms);
    new Watch(kc)
      .watch(
        path,
        query,
        (type, object) => {
          events.push({ type, object });
          if (until(events)) {
            clearTimeout(timer);
            controller?.abort();
            resolve(events);
          }
        },
        (err) => {
          clearTimeout(timer);
          if (err && err.name !== 'AbortError') reject(err);
          else resolve(events);
        },
      )
      .then((c) => {
        controller = c;
      }, reject);
  });
}

describe('the local control plane', () => {
  it('reports Kubernetes v1.36 on /version', async () => {
    const version = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.36\.\d+$/);
    expect(version.minor).toBe('36');
  });

  it('creates, lists and watches a ConfigMap over HTTPS, authenticated by client-node KubeConfig', async () => {
    const namespace = await freshNamespace();
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'proof' }, data: { step: '1' } },
    });
    const list = await core.listNamespacedConfigMap({ namespace });
    expect(list.items.map((c) => c.metadata?.name)).toEqual(['proof']);

    const watching = collectWatch(
      cp.kubeConfig,
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: created.metadata?.resourceVersion ?? '' },
      (events) => events.length >= 1,
    );
    await core.patchNamespacedConfigMap({ namespace, name: 'proof', body: [{ op: 'replace', path: '/data/step', value: '2' }] });
    const events = await watching;
    expect(events[0]?.type).toBe('MODIFIED');
    expect(events[0]?.object.data).toEqual({ step: '2' });
    expect(Number(events[0]?.object.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
  });

  it('authenticates the admin by token as well as by certificate', async () => {
    const byToken = cp.kubeConfigFor('admin-token').makeApiClient(CoreV1Api);
    const namespaces = await byToken.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('default');
  });

  it.each(['restricted', 'restricted-token'])('answers the %s user 403 with the server Status message', async (context) => {
    const restricted = cp.kubeConfigFor(context).makeApiClient(CoreV1Api);
    const failure = await restricted.listNamespacedConfigMap({ namespace: 'default' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ApiException);
    const err = failure as ApiException<string>;
    expect(err.code).toBe(403);
    const status = JSON.parse(err.body) as { kind: string; reason: string; message: string };
    expect(status).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect(status.message).toBe(
      'configmaps is forbidden: User "restricted" cannot list resource "configmaps" in API group "" in the namespace "default"',
    );
  });

  it('makes a watch from a compacted resourceVersion end in an ERROR event with code 410', async () => {
    const namespace = await freshNamespace();
    const first = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'old' }, data: { n: '0' } } });
    const oldRv = first.metadata?.resourceVersion ?? '';
    for (let n = 1; n <= 3; n++) {
      await core.replaceNamespacedConfigMap({
        namespace,
        name: 'old',
        body: { metadata: { name: 'old' }, data: { n: String(n) } },
      });
    }
    const revision = await cp.etcdRevision();
    expect(revision).toBeGreaterThan(Number(oldRv));
    await cp.compact(revision);

    const events = await collectWatch(
      cp.kubeConfig,
      `/api/v1/namespaces/${namespace}/configmaps`,
      { resourceVersion: oldRv },
      (evs) => evs.some((e) => e.type === 'ERROR'),
    );
    const error = events.find((e) => e.type === 'ERROR');
    expect(error?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('restarts kube-apiserver on the same port, keeping the data in etcd', async () => {
    const namespace = await freshNamespace();
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'survivor' } } });
    const before = cp.state.apiserver.pid;
    await cp.restartApiserver();
    expect(cp.state.apiserver.pid).not.toBe(before);
    const fresh = cp.kubeConfig.makeApiClient(CoreV1Api);
    const got = await fresh.readNamespacedConfigMap({ namespace, name: 'survivor' });
    expect(got.metadata?.name).toBe('survivor');
  });
});
