// Controller on the real control plane: level-triggered reconciles, dedup, one key at a time, retries, terminal, stop.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap, Namespace, Secret } from '@kwatch/models/v1';
import { attachControlPlane } from '@kwatch/testenv';
import { InformerFactory } from '@kwatch/watch-core';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect, inject, it } from 'vitest';
import { Controller, related, TerminalError } from '../src/index.ts';
import { scrape, TestReader } from './otel.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

async function namespace(): Promise<string> {
  const name = `ctl-${randomBytes(3).toString('hex')}`;
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

it('reconciles every object and every change, deduplicates bursts, never runs one key twice at once, converges', async () => {
  const ns = await namespace();
  const N = 40;
  for (let i = 0; i < N; i++)
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `cm-${i}` }, data: { v: '0' } } });
  const running = new Set<string>();
  let overlaps = 0;
  let peak = 0;
  /** What each key's last reconcile saw: the converged state must be the last written one. */
  const seen = new Map<string, string | undefined>();
  const informers = new InformerFactory({ kubeConfig: cp.kubeConfig });
  const controller = new Controller(ConfigMap, {
    informers,
    namespace: ns,
    concurrency: 4,
    reconcile: async ({ key, object }) => {
      if (running.has(key)) overlaps += 1;
      running.add(key);
      peak = Math.max(peak, running.size);
      await new Promise((r) => setTimeout(r, 5)); // slow enough that changes pile up behind a running key
      seen.set(key, object?.data?.v);
      running.delete(key);
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('the initial list reconciled', () => seen.size === N);

  // Bursts: each object changed 10 times in a row, as fast as the apiserver takes it.
  let changes = 0;
  const before = controller.stats.reconciles;
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      for (let v = 1; v <= 10; v++) {
        await core.patchNamespacedConfigMap({
          namespace: ns,
          name: `cm-${i}`,
          body: [{ op: 'replace', path: '/data/v', value: String(v) }],
        });
        changes += 1;
      }
    }),
  );
  await until('every object seen at its last version', () => [...seen.values()].every((v) => v === '10'));
  // One deletion: reconciled with no object.
  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-0' });
  await until('the deletion reconciled', () => seen.get(`${ns}/cm-0`) === undefined);
  stop.abort();
  await done;
  informers.stop();

  const reconcilesForChanges = controller.stats.reconciles - before;
  expect(overlaps).toBe(0);
  expect(peak).toBeLessThanOrEqual(4);
  expect(changes).toBe(N * 10);
  expect(reconcilesForChanges).toBeLessThan(changes); // deduplicated: fewer reconciles than changes
  expect(controller.stats.running).toBe(0);
});

it('a failing reconcile retries with backoff until it succeeds; a TerminalError does not retry; stop() starts nothing after', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'flaky' } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'terminal' } } });
  const calls = new Map<string, number[]>();
  const errors: string[] = [];
  const reader = new TestReader();
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    name: 'flaky',
    metrics: { meter: new MeterProvider({ readers: [reader] }).getMeter('test') },
    queue: { backoff: { baseMs: 20, maxMs: 1000 } },
    onError: (e, key) => errors.push(`${key}: ${(e as Error).name}`),
    reconcile: ({ name, retries }) => {
      calls.set(name, [...(calls.get(name) ?? []), retries]);
      if (name === 'terminal') throw new TerminalError('cannot be done');
      if (name === 'flaky' && retries < 3) throw new Error('not yet');
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('flaky succeeded', () => (calls.get('flaky') ?? []).length === 4);
  await new Promise((r) => setTimeout(r, 300)); // a terminal key would have been retried by now (20 ms backoff)
  stop.abort();
  await done;
  const after = controller.stats.reconciles;
  await core.patchNamespacedConfigMap({
    namespace: ns,
    name: 'flaky',
    body: [{ op: 'add', path: '/data', value: { late: 'yes' } }],
  });
  await new Promise((r) => setTimeout(r, 300));

  expect(calls.get('flaky')).toEqual([0, 1, 2, 3]); // retries counted, then success
  expect(calls.get('terminal')).toEqual([0]); // never retried
  expect(errors.filter((e) => e.startsWith(`${ns}/terminal`))).toEqual([`${ns}/terminal: TerminalError`]);
  expect(controller.stats.reconciles).toBe(after); // nothing after run() resolved
  const m = await scrape(reader);
  expect(m['controller_runtime_reconcile_errors_total{controller=flaky}']).toBe(4); // 3 retried, 1 terminal
  expect(m['controller_runtime_reconcile_total{controller=flaky,result=success}']).toBe(1);
  expect(m['workqueue_retries_total{name=flaky}']).toBe(3);
});

it('a hanging reconcile is timed out without stopping the others, and its key never runs twice at once', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'hang' } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'ok' } } });
  let hangRuns = 0;
  let hanging = 0;
  let overlap = false;
  let okRuns = 0;
  let release: (() => void) | undefined;
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    concurrency: 1, // one worker: the timeout must free it for 'ok'
    reconcileTimeoutMs: 200,
    queue: { backoff: { baseMs: 10, maxMs: 10 } },
    reconcile: async ({ name, signal }) => {
      if (name === 'ok') {
        okRuns += 1;
        return;
      }
      hangRuns += 1;
      if (hanging > 0) overlap = true;
      hanging += 1;
      // Ignores its signal the first time: the key must still not run again until this call settles.
      if (hangRuns === 1) await new Promise<void>((r) => (release = r));
      else await new Promise((r) => setTimeout(r, 5));
      hanging -= 1;
      expect(signal.aborted || hangRuns > 1).toBe(true);
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('ok reconciled while hang hangs', () => okRuns >= 1 && hangRuns === 1);
  await new Promise((r) => setTimeout(r, 300)); // well past the timeout and the 10 ms backoff
  // A change of the hung key enqueues it: it must still wait for the first call to settle.
  await core.patchNamespacedConfigMap({ namespace: ns, name: 'hang', body: [{ op: 'add', path: '/data', value: { x: '1' } }] });
  await new Promise((r) => setTimeout(r, 300));
  expect(hangRuns).toBe(1); // not run again while the first call has not settled
  release?.();
  await until('hang retried after its first call settled', () => hangRuns >= 2);
  stop.abort();
  await done;
  expect(overlap).toBe(false);
});

it('owns: a change to an owned Secret enqueues its controller ConfigMap; watches: a Namespace change enqueues what map gives', async () => {
  const ns = await namespace();
  const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' } } });
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '', controller: true };
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'owned', ownerReferences: [ownerRef] } } });
  // Not a controller reference: must not enqueue anything.
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'loose', ownerReferences: [{ ...ownerRef, controller: false }] } },
  });
  const runs = new Map<string, number>();
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    owns: [Secret],
    watches: [related(Namespace, (n) => (n.metadata?.name === ns ? [`${ns}/settings`] : []))],
    reconcile: ({ name }) => {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('the initial reconciles', () => runs.get('owner') === 1 && runs.get('settings') === 1);
  await new Promise((r) => setTimeout(r, 200));
  // A Secret that is not controlled by the owner: its change enqueues nothing (watched alone, for a quiet second).
  const quiet = runs.get('owner');
  await core.patchNamespacedSecret({ namespace: ns, name: 'loose', body: [{ op: 'add', path: '/data', value: { k: 'dg==' } }] });
  await new Promise((r) => setTimeout(r, 1000));
  expect(runs.get('owner')).toBe(quiet);
  const before = { owner: runs.get('owner'), settings: runs.get('settings') };
  await core.patchNamespacedSecret({ namespace: ns, name: 'owned', body: [{ op: 'add', path: '/data', value: { k: 'dg==' } }] });
  await until('the owner reconciled after its Secret changed', () => (runs.get('owner') ?? 0) > (before.owner ?? 0));
  await core.patchNamespace({ name: ns, body: [{ op: 'add', path: '/metadata/labels', value: { touched: 'yes' } }] });
  await until('settings reconciled after its Namespace changed', () => (runs.get('settings') ?? 0) > (before.settings ?? 0));
  await core.deleteNamespacedSecret({ namespace: ns, name: 'owned' });
  await until('the owner reconciled after its Secret was deleted', () => (runs.get('owner') ?? 0) > (before.owner ?? 0) + 1);
  stop.abort();
  await done;
  // The owned change and the deletion (a relist under load may add a reconcile; level-triggered, that is allowed).
  expect(runs.get('owner')).toBeGreaterThanOrEqual((before.owner ?? 0) + 2);
  expect([...runs.keys()].sort()).toEqual(['owner', 'settings']);
});

it('a finalizer is added before the first reconcile acts, cleanup runs on deletion (retried until it succeeds), then the object goes', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: { metadata: { name: 'guarded', finalizers: ['other.example.com/keep'] } },
  });
  const seenFinalizers: string[][] = [];
  const cleanups: string[] = [];
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    queue: { backoff: { baseMs: 20, maxMs: 100 } },
    finalizer: {
      name: 'kwatch.example.com/cleanup',
      cleanup: ({ object }) => {
        cleanups.push(object.metadata?.name ?? '');
        if (cleanups.length === 1) throw new Error('external system unavailable'); // retried
      },
    },
    reconcile: ({ object }) => {
      if (object) seenFinalizers.push([...(object.metadata?.finalizers ?? [])]);
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('the first reconcile', () => seenFinalizers.length > 0);
  expect(seenFinalizers[0]).toEqual(['other.example.com/keep', 'kwatch.example.com/cleanup']); // added before it acted
  const onServer = await core.readNamespacedConfigMap({ namespace: ns, name: 'guarded' });
  expect(onServer.metadata?.finalizers).toEqual(['other.example.com/keep', 'kwatch.example.com/cleanup']);

  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'guarded' });
  await until('cleanup succeeded', () => cleanups.length === 2);
  let left: string[] | undefined;
  for (let i = 0; i < 100; i++) {
    left = (await core.readNamespacedConfigMap({ namespace: ns, name: 'guarded' })).metadata?.finalizers;
    if (left?.length === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(left).toEqual(['other.example.com/keep']); // ours removed, the other kept
  const reconcilesBefore = seenFinalizers.length;
  await new Promise((r) => setTimeout(r, 200));
  stop.abort();
  await done;
  expect(cleanups).toEqual(['guarded', 'guarded']);
  expect(seenFinalizers.length).toBe(reconcilesBefore); // no reconcile of an object being deleted
  // Let the namespace's object go: remove the other finalizer by hand.
  await core.patchNamespacedConfigMap({
    namespace: ns,
    name: 'guarded',
    body: [{ op: 'remove', path: '/metadata/finalizers/0' }],
  });
});

it('the recorder writes events.k8s.io Events; the same event again is a series on one Event, not a new one', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'noisy' } } });
  let runs = 0;
  const controller = new Controller(ConfigMap, {
    kubeConfig: cp.kubeConfig,
    namespace: ns,
    name: 'example.com/noisy',
    reconcile: ({ object, recorder }) => {
      if (!object) return undefined;
      runs += 1;
      for (let i = 0; i < 5; i++)
        recorder.event(object, { type: 'Warning', reason: 'NoTarget', action: 'Reconcile', note: 'data.target is empty' });
      recorder.event(object, { type: 'Normal', reason: 'Seen', action: 'Reconcile' });
      return undefined;
    },
  });
  const stop = new AbortController();
  const done = controller.run({ signal: stop.signal });
  await until('reconciled', () => runs === 1);
  stop.abort();
  await done; // flushes the recorder
  const list = (await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns })).items;
  const events = list.filter((e) => e.involvedObject?.name === 'noisy');
  const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
  expect(events.length).toBe(2);
  expect(byReason.NoTarget?.series?.count).toBe(5);
  expect(byReason.NoTarget?.type).toBe('Warning');
  expect(byReason.NoTarget?.message).toBe('data.target is empty');
  expect(byReason.NoTarget?.reportingComponent).toBe('example.com/noisy');
  expect(byReason.Seen?.series).toBeUndefined();
});

it('with leader election only the leader reconciles; when it stops, the standby (caches warm) takes over; /readyz follows the caches', async () => {
  const ns = await namespace();
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
  const runs = { a: 0, b: 0 };
  const make = (who: 'a' | 'b') =>
    new Controller(ConfigMap, {
      kubeConfig: cp.kubeConfig,
      namespace: ns,
      reconcile: () => {
        runs[who] += 1;
        return undefined;
      },
    });
  const a = make('a');
  const b = make('b');
  const leaderElection = {
    namespace: ns,
    name: 'ctl',
    leaseDurationSeconds: 2,
    renewDeadlineSeconds: 1,
    retryPeriodSeconds: 0.2,
  };
  const stopA = new AbortController();
  const stopB = new AbortController();
  const doneA = a.run({ signal: stopA.signal, leaderElection: { ...leaderElection, identity: 'a' }, healthPort: 0 });
  await until('a leads and reconciled', () => runs.a === 1);
  const doneB = b.run({ signal: stopB.signal, leaderElection: { ...leaderElection, identity: 'b' }, healthPort: 0 });
  await until('b has a health server', () => b.healthUrl !== undefined);
  let ready = 0;
  for (let i = 0; i < 100 && ready !== 200; i++) {
    ready = (await fetch(`${b.healthUrl}/readyz`)).status;
    if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
  }
  expect(ready).toBe(200);
  expect([a.isLeading, b.isLeading, runs.b]).toEqual([true, false, 0]);
  stopA.abort(); // releases the lease
  await doneA;
  await until('b took over and reconciled', () => runs.b === 1, 10_000);
  expect(b.isLeading).toBe(true);
  stopB.abort();
  await doneB;
  expect(runs).toEqual({ a: 1, b: 1 });
});
