// The README's examples, kept compiling by `pnpm typecheck` (they are not run here: see the other examples).
import { readFileSync } from 'node:fs';
import { Controller, related, TerminalError } from '@kwatch/controller';
import { defineResource, ObjectMetaSchema, resourceFromCRD } from '@kwatch/models';
import { NamespacedWatchables, Watchables } from '@kwatch/models/apps/v1';
import { ConfigMap, Namespace, Node, Pod, PodList, Secret } from '@kwatch/models/v1';
import { EventListener, StreamWatch } from '@kwatch/toolkit';
import { dropManagedFields, MultiplexingWatcher, ShardRing, Store, Watcher } from '@kwatch/watch-core';
import { z } from 'zod';

export async function basics(): Promise<void> {
  for await (const we of new Watcher(Pod, { namespace: 'web' }).stream()) {
    console.log(we.type, we.object.metadata?.name);
    if (!we.tombstone) console.log(we.object.status?.phase);
  }
  const watcher = new Watcher(Pod, { namespace: 'web' });
  for await (const we of watcher.stream()) if (we.type === 'DELETED') break;
  for await (const we of watcher.stream()) console.log(we.type);
  const w = new Watcher(PodList, { labelSelector: 'app=web', timeoutSeconds: 60 });
  for await (const we of w.stream({ manageResourceVersion: false, quitOnTimeout: true }))
    console.log(we.etype, we.obj.status?.phase);
  for await (const e of new Watcher(Node).stream({ markers: true })) {
    if (e.type === 'SYNCED') console.log('up to date at', e.resourceVersion);
    else if (e.type !== 'RESYNC') console.log(e.type, e.object.metadata?.name, e.synthetic ? '(from a list)' : '');
  }
}

export function watchables(): void {
  console.log(Object.keys(Watchables));
  new Watcher(NamespacedWatchables.Deployment, { namespace: 'web' });
}

export async function customResources(): Promise<void> {
  const CronTab = defineResource({
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    namespaced: true,
    schema: z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) }),
  });
  for await (const we of new Watcher(CronTab).stream()) if (!we.tombstone) console.log(we.object.spec.cronSpec);
  const FromYaml = resourceFromCRD(readFileSync('crontab-crd.yaml', 'utf8'));
  new Watcher(FromYaml, { namespace: 'jobs' });
}

export function observability(): void {
  const watcher = new Watcher(Pod, {
    hooks: { reconnecting: ({ error, delayMs }) => console.warn(error.code, 'retry in', delayMs) },
  });
  setInterval(() => console.log(watcher.health()), 10_000);
  watcher.isRunning();
  watcher.stop();
}

export async function multiplexing(): Promise<void> {
  const mux = new MultiplexingWatcher({
    watchers: [new Watcher(Pod, { namespace: 'web' }), new Watcher(ConfigMap, { namespace: 'web' })],
    exceptionCallback: async (_mux, _watcher, _error) => false, // cull
  });
  mux.addWatcher(new Watcher(Secret, { namespace: 'web' })); // later, in its own statement
  for await (const e of mux.stream()) {
    if (e.tombstone) console.log('deleted while away:', e.kind, e.object.metadata.name);
    else if (e.kind === 'Pod')
      console.log(e.type, e.object.status?.phase); // e.object: Pod
    else if (e.kind === 'ConfigMap') console.log(e.type, e.object.data); // e.object: ConfigMap
  }
}

export async function toolkit(): Promise<void> {
  const store = new Store<Pod>({ transform: dropManagedFields });
  void store.consume(new Watcher(Pod).stream({ markers: true }));
  await store.ready();
  store.list('web');
  class Audit extends EventListener<Pod> {
    override create(pod: Pod) {
      console.log('created', pod.metadata?.name);
    }
  }
  await new StreamWatch(Pod, [new Audit()], { namespace: 'web' }).run({
    healthcheckPort: 8080,
    leaderElection: { namespace: 'web', name: 'audit' },
  });
}

/** README "Controllers" and docs/controllers.md "The API by example". */
export async function controllers(signal: AbortSignal): Promise<void> {
  const controller = new Controller(ConfigMap, {
    namespace: 'web',
    owns: [Secret],
    reconcile: async ({ object, client, signal }) => {
      if (object)
        await client.request({
          method: 'PATCH',
          path: `/api/v1/namespaces/web/configmaps/${object.metadata?.name}`,
          body: { metadata: { labels: { seen: 'yes' } } },
          signal,
        });
    },
  });
  await controller.run({ signal, leaderElection: { namespace: 'web', name: 'labeller' } });

  const mirror = new Controller(ConfigMap, {
    namespace: 'web',
    labelSelector: 'mirror=yes',
    owns: [Secret],
    watches: [related(Namespace, (ns) => [`${ns.metadata?.name}/settings`])],
    concurrency: 4,
    reconcileTimeoutMs: 30_000,
    finalizer: { name: 'example.com/cleanup', cleanup: async () => {} },
    reconcile: async ({ object, client, recorder, signal }) => {
      if (!object) return;
      const target = object.data?.target;
      if (!target) throw new TerminalError('no target');
      await client.apply(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: target, namespace: object.metadata?.namespace },
          stringData: object.data,
        },
        { fieldManager: 'mirror', plural: 'secrets', signal },
      );
      recorder.event(object, { type: 'Normal', reason: 'Mirrored', action: 'Apply', note: `to ${target}` });
      return { requeueAfterMs: 60_000 };
    },
  });
  await mirror.run({ signal, leaderElection: { namespace: 'web', name: 'mirror' }, healthPort: 8080 });
}

/** README "Scale out" and docs/scaling.md. */
export async function scaleOut(
  signal: AbortSignal,
  handle: (e: unknown) => void,
  reconcile: ConstructorParameters<typeof Controller<typeof ConfigMap>>[1]['reconcile'],
): Promise<void> {
  const ring = new ShardRing({ name: 'mirror', namespace: 'web', identity: process.env.POD_NAME });
  for await (const e of new Watcher(ConfigMap, { namespace: 'web', shard: ring }).stream({ markers: true })) handle(e);
  await new Controller(ConfigMap, { namespace: 'web', shard: ring, reconcile }).run({ signal });
  ring.members();
  ring.ranges();
  await ring.stop();
}
