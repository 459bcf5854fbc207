import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import * as apps from '@kwatch/models/apps/v1';
import * as batch from '@kwatch/models/batch/v1';
import * as coordination from '@kwatch/models/coordination.k8s.io/v1';
import * as networking from '@kwatch/models/networking.k8s.io/v1';
import * as policy from '@kwatch/models/policy/v1';
import * as rbac from '@kwatch/models/rbac.authorization.k8s.io/v1';
import * as core from '@kwatch/models/v1';
import { afterEach, describe, expect, it } from 'vitest';
import { type KwatchError, type MultiplexedEvent, MultiplexingWatcher, Watcher } from '../src/index.ts';
import { Collector, core as coreApi, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const kubeConfig = cp.kubeConfig;
const live = new Set<MultiplexingWatcher<any>>();
afterEach(() => {
  for (const m of live) m.stop();
  live.clear();
});
function mux(options: ConstructorParameters<typeof MultiplexingWatcher>[0] = {}) {
  const m = new MultiplexingWatcher(options);
  live.add(m);
  return m;
}
const label = (e: MultiplexedEvent<{ metadata?: { name?: string } }>) => `${e.kind} ${e.type} ${e.object.metadata?.name}`;

async function createSecret(namespace: string, name: string) {
  await coreApi.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: { k: 'v' } } });
}

describe('MultiplexingWatcher on the real control plane', () => {
  it('merges the events of several kinds, each saying which watcher it came from', async () => {
    const ns = await freshNamespace('mux');
    await createConfigMaps(ns, ['cm1']);
    await createSecret(ns, 's1');
    const cms = new Watcher(core.ConfigMap, { namespace: ns, kubeConfig });
    const secrets = new Watcher(core.SecretList, { namespace: ns, kubeConfig });
    const m = mux().addWatcher(cms).addWatcher(secrets);
    const c = new Collector(m.stream());
    await c.until((x) => x.items.length >= 2);
    await createSecret(ns, 's2');
    await createConfigMaps(ns, ['cm2']);
    await c.until((x) => x.items.length >= 4);
    const events = c.items as MultiplexedEvent<any>[];
    expect(events.map(label).sort()).toEqual([
      'ConfigMap ADDED cm1',
      'ConfigMap ADDED cm2',
      'Secret ADDED s1',
      'Secret ADDED s2',
    ]);
    expect(events.find((e) => e.kind === 'Secret')?.watcher).toBe(secrets);
    expect(events.find((e) => e.kind === 'ConfigMap')?.object).toBeInstanceOf(core.ConfigMap);
    m.stop();
    await c.done;
  });

  it('takes additions and deletions while streaming; one watcher per kind (PodList replaces Pod)', async () => {
    const ns = await freshNamespace('mux');
    const m = mux().addWatcher(new Watcher(core.ConfigMap, { namespace: ns, kubeConfig }));
    const c = new Collector(m.stream());
    await createConfigMaps(ns, ['a']);
    await c.until((x) => x.items.length === 1);
    m.addWatcher(new Watcher(core.Secret, { namespace: ns, kubeConfig }));
    await createSecret(ns, 's');
    await c.until((x) => x.items.some((e) => (e as MultiplexedEvent<unknown>).kind === 'Secret'));
    expect(m.delWatcher(core.ConfigMap)).toBe(true);
    await createConfigMaps(ns, ['after-delete']);
    await createSecret(ns, 's2');
    await c.until((x) => x.items.length === 3);
    await sleep(300);
    expect((c.items as MultiplexedEvent<any>[]).map(label)).toEqual(['ConfigMap ADDED a', 'Secret ADDED s', 'Secret ADDED s2']);

    m.stop();
    await c.done;

    // The stream's options reach watchers added later: markers from a watcher added mid-stream.
    const c2 = new Collector(m.stream({ markers: true }));
    m.addWatcher(new Watcher(core.ServiceAccount, { namespace: ns, kubeConfig }));
    await c2.until((x) => x.items.some((e) => e.type === 'SYNCED' && (e as { kind: string }).kind === 'ServiceAccount'));
    m.stop();
    await c2.done;

    // Streaming again after stop() culls nothing (the watchers resume).
    expect(m.culled).toEqual([]);
    const pods = new Watcher(core.Pod, { namespace: ns, kubeConfig });
    const podList = new Watcher(core.PodList, { namespace: ns, kubeConfig });
    m.addWatcher(pods).addWatcher(podList);
    expect(m.watchers().map((w) => w.target.info.kind)).toEqual(['Secret', 'ServiceAccount', 'Pod']);
    expect(m.watchers()).toContain(podList);
    expect(m.watchers()).not.toContain(pods);
    // A kind deletes its watcher whichever class names it: PodList's watcher by Pod, and back.
    expect(m.delWatcher(core.Pod)).toBe(true);
    m.addWatcher(pods);
    expect(m.delWatcher(core.PodList)).toBe(true);
    expect(m.delWatcher(core.PodList)).toBe(false);
  });

  it('culls a failing watcher without a callback, says why, and keeps the others streaming', async () => {
    const ns = await freshNamespace('mux');
    const culled: string[] = [];
    const m = mux({ onCulled: (w, e) => culled.push(`${w.target.info.kind}: ${(e as KwatchError).code}`) })
      .addWatcher(new Watcher(core.Secret, { namespace: ns, kubeConfig: cp.kubeConfigFor('restricted') }))
      .addWatcher(new Watcher(core.ConfigMap, { namespace: ns, kubeConfig }));
    const c = new Collector(m.stream());
    await createConfigMaps(ns, ['still-here']);
    await c.until((x) => x.items.length === 1 && m.culled.length === 1, 20_000, 'the event and the cull');
    expect(culled).toEqual(['Secret: FORBIDDEN']);
    expect(m.culled).toHaveLength(1);
    expect(m.watchers().map((w) => w.target.info.kind)).toEqual(['ConfigMap']);
    m.stop();
    await c.done;
  });

  it('exactly true keeps (restart with backoff, no spin); anything else or a throw culls', async () => {
    const ns = await freshNamespace('mux');
    let calls = 0;
    const m = mux({
      exceptionCallback: () => {
        calls += 1;
        return true;
      },
      restartBackoff: { initialMs: 100, maxMs: 400 },
    })
      .addWatcher(new Watcher(core.Secret, { namespace: ns, kubeConfig: cp.kubeConfigFor('restricted') }))
      .addWatcher(new Watcher(core.ConfigMap, { namespace: ns, kubeConfig }));
    const c = new Collector(m.stream());
    await sleep(1500);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThan(30); // Hikaru: 6,000 callbacks in 0.3 s
    expect(m.culled).toHaveLength(0);
    m.stop();
    await c.done;

    for (const verdict of [
      () => 'yes',
      () => 1,
      () => undefined,
      () => {
        throw new Error('callback broke');
      },
    ]) {
      const m2 = mux({ exceptionCallback: verdict }).addWatcher(
        new Watcher(core.Secret, { namespace: ns, kubeConfig: cp.kubeConfigFor('restricted') }),
      );
      const c2 = new Collector(m2.stream());
      await c2.done; // the only watcher is culled: the stream ends
      expect(m2.culled).toHaveLength(1);
      expect(m2.watchers()).toEqual([]);
    }
  });

  it('a watcher replaced from inside the callback streams (Hikaru lost it)', async () => {
    const ns = await freshNamespace('mux');
    await createSecret(ns, 'visible');
    const m = mux({
      exceptionCallback: (mx) => {
        mx.addWatcher(new Watcher(core.Secret, { namespace: ns, kubeConfig }));
        return false;
      },
    }).addWatcher(new Watcher(core.Secret, { namespace: ns, kubeConfig: cp.kubeConfigFor('restricted') }));
    const c = new Collector(m.stream());
    await c.until((x) => x.items.length === 1);
    expect((c.items as MultiplexedEvent<any>[]).map(label)).toEqual(['Secret ADDED visible']);
    expect(m.culled).toHaveLength(0);
    m.stop();
    await c.done;
  });

  it('stops within 100 ms, can stream again, and ends when its last watcher is gone', async () => {
    const ns = await freshNamespace('mux');
    await createConfigMaps(ns, ['a']);
    const m = mux().addWatcher(new Watcher(core.ConfigMap, { namespace: ns, kubeConfig }));
    const c1 = new Collector(m.stream());
    await c1.until((x) => x.items.length === 1);
    const t0 = performance.now();
    m.stop();
    await c1.done;
    expect(performance.now() - t0).toBeLessThan(100);

    await createConfigMaps(ns, ['b']);
    const c2 = new Collector(m.stream());
    await c2.until((x) => x.items.length === 1);
    expect((c2.items as MultiplexedEvent<any>[]).map(label)).toEqual(['ConfigMap ADDED b']); // resumed, no replay
    m.delWatcher(core.ConfigMap);
    await c2.done;
    expect(c2.error).toBeUndefined();

    const empty = mux();
    const c3 = new Collector(empty.stream());
    await c3.done;
    expect(c3.items).toEqual([]);
  });

  it('20 watchers through an apiserver restart: every one recovers, (re)connects bounded by connectConcurrency', async () => {
    const ns = await freshNamespace('mux');
    const kinds = [
      core.ConfigMap,
      core.Secret,
      core.Pod,
      core.Service,
      core.ServiceAccount,
      core.Endpoints,
      core.Event,
      core.LimitRange,
      core.PersistentVolumeClaim,
      core.PodTemplate,
      core.ReplicationController,
      core.ResourceQuota,
      apps.Deployment,
      apps.StatefulSet,
      apps.DaemonSet,
      apps.ReplicaSet,
      batch.Job,
      batch.CronJob,
      rbac.Role,
      coordination.Lease,
      networking.NetworkPolicy,
      policy.PodDisruptionBudget,
    ].slice(0, 20);
    const connects = new Map<string, number>();
    const m = mux({ connectConcurrency: 3 });
    for (const kind of kinds) {
      m.addWatcher(
        new Watcher(kind as typeof core.ConfigMap, {
          namespace: ns,
          kubeConfig,
          backoff: { initialMs: 200, maxMs: 2000 },
          hooks: { connected: () => connects.set(kind.kind, (connects.get(kind.kind) ?? 0) + 1) },
        }),
      );
    }
    const c = new Collector(m.stream({ markers: true }));
    await c.until((x) => x.items.filter((e) => e.type === 'SYNCED').length === 20, 60_000, '20 initial syncs');
    expect(m.maxConcurrentConnects).toBeLessThanOrEqual(3);

    await cp.restartApiserver();
    await c.until(() => [...connects.values()].filter((n) => n >= 2).length === 20, 90_000, 'all 20 reconnected');
    expect(m.maxConcurrentConnects).toBeLessThanOrEqual(3);
    expect(m.maxConcurrentConnects).toBeGreaterThanOrEqual(2);
    expect(m.culled).toEqual([]);

    // Events flow again for every kind we can create cheaply.
    await createConfigMaps(ns, ['after-restart']);
    await createSecret(ns, 'after-restart');
    await cp.kubeConfig
      .makeApiClient(CoordinationV1Api)
      .createNamespacedLease({ namespace: ns, body: { metadata: { name: 'after-restart' } } });
    await cp.kubeConfig
      .makeApiClient(RbacAuthorizationV1Api)
      .createNamespacedRole({ namespace: ns, body: { metadata: { name: 'after-restart' } } });
    await c.until((x) => x.items.filter((e) => e.type === 'ADDED').length >= 4, 30_000, 'events after the restart');
    expect((c.items.filter((e) => e.type === 'ADDED') as MultiplexedEvent<any>[]).map((e) => e.kind).sort()).toEqual([
      'ConfigMap',
      'Lease',
      'Role',
      'Secret',
    ]);
    m.stop();
    await c.done;
  }, 240_000);
});
