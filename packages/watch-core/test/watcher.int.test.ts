import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { ApiError, GoneError, WatchEvent, Watcher } from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const kubeConfig = cp.kubeConfig;

describe('managed streams (the default): existing objects once, then live changes, never twice', () => {
  it('delivers the initial state, SYNCED, then changes as typed ConfigMaps', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a', 'b']);
    const relisted: string[] = [];
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, hooks: { relisted: (i) => relisted.push(i.via) } });
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('SYNCED'));
    expect(c.lines.slice(0, 3).sort()).toEqual(['ADDED a', 'ADDED b', 'SYNCED']);
    expect(c.lines[2]).toBe('SYNCED');
    await createConfigMaps(ns, ['c']);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'a' });
    await c.until((x) => x.lines.includes('DELETED a'));
    expect(c.lines.slice(3)).toEqual(['ADDED c', 'DELETED a']);
    const first = c.items[0] as WatchEvent<ConfigMap>;
    expect(first.object).toBeInstanceOf(ConfigMap);
    expect(first.object.apiVersion).toBe('v1');
    expect(first.etype).toBe(first.type);
    expect(first.obj).toBe(first.object);
    expect(relisted).toEqual(['watch-list']);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
  });

  it('gets the initial state by paginated LIST when WatchList is off, pages of pageSize', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a', 'b', 'c', 'd', 'e']);
    const relisted: Array<{ via: string; objects: number }> = [];
    const watcher = new Watcher(ConfigMap, {
      namespace: ns,
      kubeConfig,
      watchList: false,
      pageSize: 2,
      hooks: { relisted: (i) => relisted.push({ via: i.via, objects: i.objects }) },
    });
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('SYNCED'));
    expect(c.lines).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'ADDED d', 'ADDED e', 'SYNCED']);
    expect(relisted).toEqual([{ via: 'list', objects: 5 }]);
    await createConfigMaps(ns, ['f']);
    await c.until((x) => x.lines.includes('ADDED f'));
    watcher.stop();
    await c.done;
  });

  it('resumes after each server timeout from the last resourceVersion: no replay, nothing missed', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, timeoutSeconds: 1 });
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1200)); // at least one server timeout in between
      await createConfigMaps(ns, [`n${i}`]);
    }
    await c.until((x) => x.lines.includes('ADDED n2'));
    expect(c.lines).toEqual(['ADDED a', 'ADDED n0', 'ADDED n1', 'ADDED n2']);
    expect(watcher.health().reconnects).toBeGreaterThanOrEqual(2);
    watcher.stop();
    await c.done;
  });

  it('relists after 410 Gone from a compaction and delivers exactly what changed in the gap', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['keep', 'change', 'remove']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig });
    const first = new Collector(watcher.stream({ markers: true }));
    await first.until((x) => x.lines.includes('SYNCED'));
    watcher.stop();
    await first.done;
    const rvBefore = watcher.currentResourceVersion();

    // While nobody watches: a change, a deletion, a creation, then compaction past them all.
    await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: 'change',
      body: { metadata: { name: 'change' }, data: { v: '2' } },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'remove' });
    await createConfigMaps(ns, ['new']);
    await cp.compact(await cp.etcdRevision());

    const second = new Collector(watcher.stream({ markers: true }));
    await second.until((x) => x.lines.filter((l) => l === 'SYNCED').length === 1, 20_000, 'resync');
    expect(second.lines[0]).toBe('RESYNC');
    const resync = second.lines.slice(1, -1).sort();
    expect(resync).toEqual(['ADDED new', 'DELETED remove', 'MODIFIED change']);
    expect(second.items.filter((e) => e instanceof WatchEvent).every((e) => (e as WatchEvent<unknown>).synthetic)).toBe(true);
    const tombstone = second.items.find((e) => e instanceof WatchEvent && e.type === 'DELETED') as WatchEvent<ConfigMap>;
    // A tombstone: identity and last known version, honestly not a ConfigMap (kwatch keeps no copies).
    expect(tombstone.tombstone).toBe(true);
    expect(tombstone.object).not.toBeInstanceOf(ConfigMap);
    expect(tombstone.object.metadata).toMatchObject({ name: 'remove', namespace: ns });
    expect(Number(watcher.currentResourceVersion())).toBeGreaterThan(Number(rvBefore));
    expect(watcher.health().relists).toBe(1);

    await createConfigMaps(ns, ['after']);
    await second.until((x) => x.lines.includes('ADDED after'));
    watcher.stop();
    await second.done;
    expect(second.error).toBeUndefined();
  });
});

describe('managed streams from a given resourceVersion', () => {
  it('resourceVersion N: only what happened after N, then live, resuming from the last seen', async () => {
    const ns = await freshNamespace();
    const rvs = await createConfigMaps(ns, ['before']);
    await createConfigMaps(ns, ['after']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, resourceVersion: rvs.before!, timeoutSeconds: 1 });
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('ADDED after'));
    await new Promise((r) => setTimeout(r, 1500)); // a server timeout and a reconnect
    await createConfigMaps(ns, ['live']);
    await c.until((x) => x.lines.includes('ADDED live'));
    expect(c.lines).toEqual(['ADDED after', 'ADDED live']); // no initial state, no SYNCED, no replay
    watcher.stop();
    await c.done;
  });

  it('resourceVersion N too old: RESYNC and a relist instead of an error (objects never reported arrive as ADDED)', async () => {
    const ns = await freshNamespace();
    const rvs = await createConfigMaps(ns, ['x']);
    await createConfigMaps(ns, ['y', 'z']);
    await cp.compact(await cp.etcdRevision());
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, resourceVersion: rvs.x! });
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('SYNCED'));
    expect(c.lines[0]).toBe('RESYNC');
    expect(c.lines.slice(1).sort()).toEqual(['ADDED x', 'ADDED y', 'ADDED z', 'SYNCED']);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
  });
});

describe('unmanaged streams (Hikaru semantics)', () => {
  it('no resourceVersion: existing objects as ADDED, and each restart replays them (as asked)', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a', 'b']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, timeoutSeconds: 1 });
    const c = new Collector(watcher.stream({ manageResourceVersion: false }));
    await c.until((x) => x.count('ADDED a') >= 2, 10_000, 'a replay');
    expect(c.count('ADDED b')).toBeGreaterThanOrEqual(1);
    watcher.stop();
    await c.done;
  });

  it('quitOnTimeout ends the stream when the server closes the watch cleanly', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, timeoutSeconds: 1 });
    const events = [];
    for await (const e of watcher.stream({ manageResourceVersion: false, quitOnTimeout: true }))
      events.push(`${e.type} ${e.object.metadata?.name}`);
    expect(events).toEqual(['ADDED a']);
    expect(watcher.health().state).toBe('stopped');
  });

  it('resourceVersion N: only what happened after N', async () => {
    const ns = await freshNamespace();
    const rvs = await createConfigMaps(ns, ['before']);
    await createConfigMaps(ns, ['after']);
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, resourceVersion: rvs.before!, timeoutSeconds: 2 });
    const events = [];
    for await (const e of watcher.stream({ manageResourceVersion: false, quitOnTimeout: true }))
      events.push(`${e.type} ${e.object.metadata?.name}`);
    expect(events).toEqual(['ADDED after']);
  });

  it('resourceVersion N too old: a GoneError carrying the 410 Status', async () => {
    const ns = await freshNamespace();
    const rvs = await createConfigMaps(ns, ['x']);
    // Compacting at revision R keeps R: a watch from x needs x+1, so write twice more.
    await createConfigMaps(ns, ['y', 'z']);
    await cp.compact(await cp.etcdRevision());
    const watcher = new Watcher(ConfigMap, { namespace: ns, kubeConfig, resourceVersion: rvs.x! });
    const c = new Collector(watcher.stream({ manageResourceVersion: false }));
    await c.done;
    expect(c.error).toBeInstanceOf(GoneError);
    const e = c.error as GoneError;
    expect(e.code).toBe('GONE');
    expect(e.status).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(e.httpStatus).toBe(410);
  });
});

describe('errors the server gives', () => {
  it('403 for the restricted user rejects the stream with the server message', async () => {
    const watcher = new Watcher(ConfigMap, { namespace: 'default', kubeConfig: cp.kubeConfigFor('restricted') });
    const c = new Collector(watcher.stream());
    await c.done;
    expect(c.error).toBeInstanceOf(ApiError);
    expect((c.error as ApiError).code).toBe('FORBIDDEN');
    expect((c.error as ApiError).message).toContain(
      'configmaps is forbidden: User "restricted" cannot watch resource "configmaps" in API group "" in the namespace "default"',
    );
    expect(watcher.health().state).toBe('failed');
  });
});
