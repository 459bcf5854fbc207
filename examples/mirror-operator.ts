// An operator: every ConfigMap labelled mirror=yes gets an owned Secret with its data; deleting it cleans the Secret up.
/**
 * Run it against a cluster (KUBECONFIG, or the in-cluster service account):
 *   node --conditions=@kwatch/source examples/mirror-operator.ts <namespace>
 * It reconciles until Ctrl-C: each ConfigMap labelled `mirror=yes` in <namespace> has a Secret `<name>-mirror` with
 * the same data (server-side apply, owned by the ConfigMap), the ConfigMap's annotation `mirror.example.com/synced`
 * names the data it mirrored, a finalizer deletes the Secret when the ConfigMap is deleted, and an Event says what
 * was done. `examples/mirror-operator.int.test.ts` runs it on 1,000 ConfigMaps through an apiserver restart and an
 * etcd compaction.
 *
 * As N replicas that split the ConfigMaps between them (a ShardRing of Leases in <namespace>; POD_NAME names each):
 *   node --conditions=@kwatch/source examples/mirror-operator.ts <namespace> --sharded
 * `examples/mirror-operator.sharded.int.test.ts` runs 3 replicas and crashes one.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { Controller, type ControllerOptions } from '@kwatch/controller';
import { ConfigMap, Secret } from '@kwatch/models/v1';
import { type ShardOption, ShardRing } from '@kwatch/watch-core';

export const SYNCED = 'mirror.example.com/synced';

/** A short digest of a ConfigMap's data: what its mirror holds when the annotation says it. */
export function digest(data: Record<string, string> | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify(Object.entries(data ?? {}).sort()))
    .digest('hex')
    .slice(0, 16);
}

/** The mirror operator's controller (not started: call `run()`). `observe` sees each reconcile, for tests. */
export function mirrorOperator(options: {
  namespace: string;
  kubeConfig?: KubeConfig;
  readYourWrites?: boolean;
  observe?: (key: string, object: ConfigMap | undefined, phase: 'start' | 'end' | 'wrote', writtenRv?: string) => void;
  onError?: ControllerOptions<ConfigMap>['onError'];
  /** This replica's part of the ConfigMaps (a ShardRing of the replicas). Default: all of them. */
  shard?: ShardOption;
}): Controller<typeof ConfigMap> {
  const { namespace } = options;
  return new Controller(ConfigMap, {
    name: 'example.com/mirror',
    namespace,
    labelSelector: 'mirror=yes',
    owns: [Secret],
    concurrency: 8,
    ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
    ...(options.readYourWrites === false ? { readYourWrites: false } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.shard ? { shard: options.shard } : {}),
    finalizer: {
      name: 'mirror.example.com/cleanup',
      cleanup: async ({ object, client, signal }) => {
        try {
          await client.request({
            method: 'DELETE',
            path: `/api/v1/namespaces/${namespace}/secrets/${object.metadata?.name}-mirror`,
            signal,
          });
        } catch (error) {
          if ((error as { code?: string }).code !== 'NOT_FOUND') throw error; // already gone: done (idempotent)
        }
      },
    },
    reconcile: async ({ key, object, client, recorder, signal }) => {
      options.observe?.(key, object, 'start');
      try {
        if (!object?.metadata?.name) return;
        const want = digest(object.data);
        if (object.metadata.annotations?.[SYNCED] === want) return; // mirrored already (as far as this object says)
        await client.apply(
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: `${object.metadata.name}-mirror`,
              namespace,
              ownerReferences: [
                { apiVersion: 'v1', kind: 'ConfigMap', name: object.metadata.name, uid: object.metadata.uid, controller: true },
              ],
            },
            stringData: object.data ?? {},
          },
          { fieldManager: 'mirror-operator', plural: 'secrets', signal },
        );
        const written = await client.request<ConfigMap>({
          method: 'PATCH',
          path: `/api/v1/namespaces/${namespace}/configmaps/${object.metadata.name}`,
          body: { metadata: { annotations: { [SYNCED]: want } } },
          signal,
        });
        options.observe?.(key, object, 'wrote', written.metadata?.resourceVersion);
        recorder.event(object, {
          type: 'Normal',
          reason: 'Mirrored',
          action: 'Apply',
          note: `data ${want} to ${object.metadata.name}-mirror`,
        });
      } finally {
        options.observe?.(key, object, 'end');
      }
    },
  });
}

if (import.meta.main) {
  const namespace = process.argv[2] ?? 'default';
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const ring = process.argv.includes('--sharded')
    ? new ShardRing({ name: 'mirror-operator', namespace, ...(process.env.POD_NAME ? { identity: process.env.POD_NAME } : {}) })
    : undefined;
  const controller = mirrorOperator({
    namespace,
    onError: (e, key) => console.error(`${key}: ${(e as Error).message}`),
    ...(ring ? { shard: ring } : {}),
  });
  console.log(
    `mirroring ConfigMaps labelled mirror=yes in ${namespace}${ring ? ` as replica ${ring.identity}` : ''}; Ctrl-C stops`,
  );
  try {
    await controller.run({ signal: stop.signal });
  } finally {
    await ring?.stop();
  }
  console.log('stopped', controller.stats);
}
