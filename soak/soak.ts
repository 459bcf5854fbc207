/**
 * The soak: random creates, updates and deletes on 3 kinds in 3 namespaces of a real
 * control plane, while a fault proxy cuts, stalls, corrupts and refuses connections, the
 * apiserver restarts and etcd is compacted. A managed MultiplexingWatcher rebuilds the state
 * through the proxy; at the end it must equal a LIST (uids and resourceVersions), with no
 * event delivered twice outside an announced sync and, per object, every event in order.
 *
 * Two consumers: `steady` streams once and reads every event at once; `churn` breaks out of
 * the stream and streams again, stops the multiplexer from inside its loop, deletes watchers
 * and adds them back (the same instance, or a new one), and is slow for a while — the checker
 * ({@link Checker}) holds it to the same guarantees.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigMap, Secret, ServiceAccount } from '@kwatch/models/v1';
import { type ControlPlane, type FaultProxy, startControlPlane, startFaultProxy } from '@kwatch/testenv';
import { SHARED_APISERVER_FLAGS } from '@kwatch/testenv/vitest-global-setup';
import { isKwatchError, MultiplexingWatcher, Watcher } from '@kwatch/watch-core';
import { Checker } from './checker.ts';

/** Which consumer reads the multiplexer: `steady` (one stream, no pauses) or `churn`. */
export type SoakConsumer = 'steady' | 'churn';
export const SOAK_CONSUMERS: readonly SoakConsumer[] = ['steady', 'churn'];

/** What the churning consumer did (all 0 for the steady one). */
interface ChurnCounts {
  /** `break` out of `for await` (then a restream, at once or after a pause). */
  breaks: number;
  /** `mux.stop()` from inside the loop (then a restream). */
  stops: number;
  /** `mux.stream()` calls after the first. */
  restreams: number;
  /** `delWatcher(w)`. */
  deletes: number;
  /** The same instance added back after a delete. */
  reAdds: number;
  /** A new Watcher instance for a kind: after a delete, or replacing the running one. */
  replacements: number;
  /** Periods of a few seconds awaiting a few hundred ms per event. */
  slowPeriods: number;
}

/** What a soak reports. */
export interface SoakResult {
  seconds: number;
  operations: number;
  failedOperations: number;
  events: number;
  faults: number;
  faultKinds: Record<string, number>;
  restarts: number;
  compactions: number;
  resyncs: number;
  objects: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Events or markers from a watcher that was deleted or replaced (its events must stop). */
  stray: number;
  /** Versions the server made that the consumer skipped between two events of an object, outside any sync window. */
  missed: number;
  /** Kinds whose sync (initial or RESYNC) never reached SYNCED by the end. */
  unsynced: number;
  /** Failures the multiplexer passed to exceptionCallback, by error code (every one is kept and restarted). */
  watcherErrors: Record<string, number>;
  /** Watchers refused with ALREADY_STREAMING when streamed again or re-added (documented uses: must be 0). */
  refusedRestarts: number;
  p99RecoveryMs: number;
  maxRecoveryMs: number;
  consumer: SoakConsumer;
  churn: ChurnCounts;
}

/** Whether a soak passed: nothing lost, missed, twice, out of order, stray, unsynced or refused. */
export function soakPassed(r: SoakResult): boolean {
  return (
    r.lost === 0 &&
    r.missed === 0 &&
    r.duplicates === 0 &&
    r.outOfOrder === 0 &&
    r.stray === 0 &&
    r.unsynced === 0 &&
    r.refusedRestarts === 0
  );
}

const LABEL = 'kwatch-soak';
const NAMESPACES = ['soak-0', 'soak-1', 'soak-2'];
const NAMES = Array.from({ length: 15 }, (_, i) => `obj-${i}`);
type KindName = 'ConfigMap' | 'Secret' | 'ServiceAccount';
const KINDS: KindName[] = ['ConfigMap', 'Secret', 'ServiceAccount'];

/** Runs a soak for `seconds` with a consumer (default `steady`); `log` gets progress lines. */
export async function runSoak(options: {
  seconds: number;
  consumer?: SoakConsumer;
  log?: (line: string) => void;
}): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const cp = await startControlPlane({ extraApiserverFlags: SHARED_APISERVER_FLAGS, onProgress: (m) => log(`testenv: ${m}`) });
  const proxy = await startFaultProxy(cp);
  try {
    return await soak(cp, proxy, options.seconds, options.consumer ?? 'steady', log);
  } finally {
    await proxy.stop();
    await cp.stop();
  }
}

async function soak(
  cp: ControlPlane,
  proxy: FaultProxy,
  seconds: number,
  consumer: SoakConsumer,
  log: (line: string) => void,
): Promise<SoakResult> {
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const ns of NAMESPACES) await core.createNamespace({ body: { metadata: { name: ns } } });
  const result: SoakResult = {
    seconds,
    operations: 0,
    failedOperations: 0,
    events: 0,
    faults: 0,
    faultKinds: {},
    restarts: 0,
    compactions: 0,
    resyncs: 0,
    objects: 0,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    stray: 0,
    missed: 0,
    unsynced: 0,
    watcherErrors: {},
    refusedRestarts: 0,
    p99RecoveryMs: 0,
    maxRecoveryMs: 0,
    consumer,
    churn: { breaks: 0, stops: 0, restreams: 0, deletes: 0, reAdds: 0, replacements: 0, slowPeriods: 0 },
  };

  // The consumer's view, and what it needs to judge duplicates, order and strays.
  const checker = new Checker();
  const connectedAt = new Map<string, number[]>();

  const proxied = proxy.kubeConfig();
  const mux = new MultiplexingWatcher({
    exceptionCallback: (_mux, _watcher, error) => {
      const code = isKwatchError(error) ? error.code : 'UNKNOWN';
      result.watcherErrors[code] = (result.watcherErrors[code] ?? 0) + 1;
      if (code === 'ALREADY_STREAMING') result.refusedRestarts += 1;
      return true;
    },
    connectConcurrency: 3,
    restartBackoff: { initialMs: 200, maxMs: 2000 },
  });
  const kindClasses = { ConfigMap, Secret, ServiceAccount } as const;
  const newWatcher = (kind: KindName) =>
    new Watcher(kindClasses[kind] as typeof ConfigMap, {
      kubeConfig: proxied,
      labelSelector: `${LABEL}=1`,
      timeoutSeconds: 60,
      inactivityTimeoutMs: 4_000,
      backoff: { initialMs: 200, maxMs: 2_000 },
      hooks: { connected: () => connectedAt.set(kind, [...(connectedAt.get(kind) ?? []), Date.now()]) },
    });
  const watchers = new Map<KindName, Watcher<typeof ConfigMap>>();
  for (const kind of KINDS) {
    const w = newWatcher(kind);
    watchers.set(kind, w);
    checker.adopt(kind, w);
    mux.addWatcher(w);
  }

  // What the churning consumer is asked to do at its next event (set by the churn schedule below).
  const churn = result.churn;
  let request: { action: 'break' | 'stop'; pauseMs: number; notBefore: number } | undefined;
  let slowUntil = 0;
  let finished = false;
  const consuming = (async () => {
    for (let first = true; !finished; first = false) {
      if (!first) churn.restreams += 1;
      let pauseMs = 0;
      try {
        for await (const e of mux.stream({ markers: true })) {
          checker.take(e); // at once, before any await: a delete or replace after this is seen by the next item
          if (consumer === 'steady') continue;
          if (Date.now() < slowUntil) await sleep(200 + Math.random() * 200);
          const asked = request && Date.now() >= request.notBefore ? request : undefined;
          if (asked?.action === 'break') {
            request = undefined;
            churn.breaks += 1;
            pauseMs = asked.pauseMs;
            break;
          }
          if (asked?.action === 'stop') {
            request = undefined;
            churn.stops += 1;
            pauseMs = asked.pauseMs;
            mux.stop();
          }
        }
      } catch (err) {
        const code = isKwatchError(err) ? err.code : 'UNKNOWN';
        log(`churn: the multiplexer's stream failed (${code}); streaming again`);
        result.watcherErrors[`stream:${code}`] = (result.watcherErrors[`stream:${code}`] ?? 0) + 1;
        pauseMs = 200;
      }
      if (finished || consumer === 'steady') return;
      // An empty multiplexer's stream ends at once: wait for a watcher to come back.
      if (mux.watchers().length === 0) pauseMs = Math.max(pauseMs, 100);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  })();

  // The churn schedule: every 1–3 s, the next action of a shuffled round of all of them (so a short run sees each).
  const deleted = new Map<KindName, { watcher: Watcher<typeof ConfigMap>; fresh: boolean; dueAt: number }>();
  const addBack = (kind: KindName) => {
    const d = deleted.get(kind);
    if (!d) return;
    deleted.delete(kind);
    if (d.fresh) {
      const w = newWatcher(kind);
      checker.retired(d.watcher);
      checker.adopt(kind, w);
      watchers.set(kind, w);
      mux.addWatcher(w);
      churn.replacements += 1;
      log(`churn: add a NEW ${kind} watcher after the delete`);
    } else {
      checker.resumed(kind, d.watcher);
      mux.addWatcher(d.watcher);
      churn.reAdds += 1;
      log(`churn: add the same ${kind} watcher back`);
    }
  };
  let churnRunning = true;
  const churning = (async () => {
    if (consumer !== 'churn') return;
    const actions = ['break', 'stop', 'delete-readd', 'delete-replace', 'replace', 'slow'] as const;
    let round: (typeof actions)[number][] = [];
    let nextAt = Date.now() + 1_000 + Math.random() * 2_000;
    const pause = () => (Math.random() < 0.5 ? 0 : Math.round(300 + Math.random() * 1_700));
    while (churnRunning) {
      await sleep(50);
      for (const [kind, d] of deleted) if (Date.now() >= d.dueAt) addBack(kind);
      if (Date.now() < nextAt) continue;
      nextAt = Date.now() + 1_000 + Math.random() * 2_000;
      if (round.length === 0) round = [...actions].sort(() => Math.random() - 0.5);
      const action = round.shift();
      const present = KINDS.filter((k) => !deleted.has(k));
      const kind = present[Math.floor(Math.random() * present.length)];
      if (action === 'break' || action === 'stop') {
        const pauseMs = pause();
        request = { action, pauseMs, notBefore: 0 };
        log(`churn: ${action} at the next event, then stream again ${pauseMs ? `after ${pauseMs} ms` : 'at once'}`);
      } else if (action === 'slow') {
        const ms = Math.round(2_000 + Math.random() * 3_000);
        slowUntil = Date.now() + ms;
        churn.slowPeriods += 1;
        // Half the time the slow period ends in a break or a stop, while the watchers have events buffered.
        const then = Math.random() < 0.5 ? undefined : Math.random() < 0.5 ? 'break' : 'stop';
        if (then) request = { action: then, pauseMs: pause(), notBefore: slowUntil - 300 };
        log(`churn: slow for ${ms} ms${then ? `, then ${then} (stream again after ${request?.pauseMs} ms)` : ''}`);
      } else if (kind && (action === 'delete-readd' || action === 'delete-replace') && deleted.size < 2) {
        const w = watchers.get(kind) as Watcher<typeof ConfigMap>;
        mux.delWatcher(w);
        checker.removed(kind);
        churn.deletes += 1;
        const inMs = Math.round(500 + Math.random() * 3_000);
        deleted.set(kind, { watcher: w, fresh: action === 'delete-replace', dueAt: Date.now() + inMs });
        log(`churn: delete the ${kind} watcher, add ${action === 'delete-replace' ? 'a new one' : 'it back'} in ${inMs} ms`);
      } else if (kind && action === 'replace') {
        const w = newWatcher(kind);
        checker.adopt(kind, w);
        watchers.set(kind, w);
        mux.addWatcher(w); // replaces and stops the running one
        churn.replacements += 1;
        log(`churn: replace the ${kind} watcher with a new one`);
      }
    }
    // The end: every kind back, no more slowness; the consumer drains.
    for (const kind of [...deleted.keys()]) addBack(kind);
    slowUntil = 0;
    request = undefined;
  })();

  const end = Date.now() + seconds * 1000;
  let running = true;

  // The mutator: direct to the apiserver (not through the proxy), about 17 operations a second (40 ms between operations, plus their own time).
  const exists = new Set<string>();
  const made = new Map<string, number[]>(); // per object, the resourceVersions its creates and updates returned
  const record = (key: string, rv: string | undefined) => {
    if (rv) made.set(key, [...(made.get(key) ?? []), Number(rv)]);
  };
  const mutating = (async () => {
    let n = 0;
    while (running) {
      const kind = KINDS[Math.floor(Math.random() * KINDS.length)] as KindName;
      const namespace = NAMESPACES[Math.floor(Math.random() * NAMESPACES.length)] as string;
      const name = NAMES[Math.floor(Math.random() * NAMES.length)] as string;
      const key = `${kind}/${namespace}/${name}`;
      const metadata = { name, labels: { [LABEL]: '1', n: String(n++) } };
      try {
        if (!exists.has(key)) {
          record(key, await create(core, kind, namespace, metadata));
          exists.add(key);
        } else if (Math.random() < 0.7) {
          record(key, await replace(core, kind, namespace, name, metadata));
        } else {
          await remove(core, kind, namespace, name);
          exists.delete(key);
        }
        result.operations += 1;
      } catch (err) {
        result.failedOperations += 1;
        const code = (err as { code?: number }).code;
        if (code === 409) exists.add(key);
        else if (code === 404) exists.delete(key);
        else await sleep(200);
      }
      await sleep(40);
    }
  })();

  // Faults: a proxy fault every 2.5 s; restarts and compactions spread over the run (at least 3 each).
  const recoveries: number[] = [];
  const plan = Math.max(3, Math.floor(seconds / 60));
  const restartAt = Array.from({ length: plan }, (_, i) => ((i + 0.5) / plan) * seconds * 0.8 * 1000);
  const compactAt = Array.from({ length: plan }, (_, i) => ((i + 0.75) / plan) * seconds * 0.8 * 1000);
  const started = Date.now();
  const measureRecovery = (t: number, streams: number) => {
    if (streams === 0) return;
    void (async () => {
      const deadline = t + 30_000;
      while (Date.now() < deadline) {
        const back = KINDS.filter((k) => (connectedAt.get(k) ?? []).some((c) => c > t)).length;
        if (back >= Math.min(streams, KINDS.length)) {
          recoveries.push(Date.now() - t);
          return;
        }
        await sleep(10);
      }
      recoveries.push(30_000);
    })();
  };
  const faultKinds = ['cut', 'cut-mid-line', 'stall', 'http-500', 'http-429', 'corrupt'] as const;
  let nextFault = started + 2_500;
  while (Date.now() < end) {
    const elapsed = Date.now() - started;
    if (restartAt.length && elapsed >= (restartAt[0] as number)) {
      restartAt.shift();
      log(`restart ${result.restarts + 1}`);
      const t = Date.now();
      await cp.restartApiserver();
      result.restarts += 1;
      measureRecovery(t, KINDS.length);
    } else if (compactAt.length && elapsed >= (compactAt[0] as number)) {
      compactAt.shift();
      await cp.compact(await cp.etcdRevision());
      result.compactions += 1;
      log(`compaction ${result.compactions}`);
      proxy.cut(); // reconnect from old resourceVersions: ConfigMaps (served from etcd) now get 410
    } else if (Date.now() >= nextFault) {
      nextFault += 2_500;
      const fault = faultKinds[result.faults % faultKinds.length] as (typeof faultKinds)[number];
      const t = Date.now();
      if (fault === 'cut') measureRecovery(t, proxy.cut());
      else if (fault === 'cut-mid-line') proxy.cut({ midLine: true });
      else if (fault === 'stall') measureRecovery(t, proxy.stall());
      else if (fault === 'http-500') proxy.failNext({ status: 500, match: 'watch=true' }, 2);
      else if (fault === 'http-429') proxy.failNext({ status: 429, retryAfterSeconds: 1, match: 'watch=true' });
      else proxy.corruptNextLine();
      result.faults += 1;
      result.faultKinds[fault] = (result.faultKinds[fault] ?? 0) + 1;
    }
    await sleep(50);
  }
  running = false;
  churnRunning = false;
  await Promise.all([mutating, churning]);
  log(`mutations stopped after ${result.operations} operations; waiting for the watchers to converge`);

  // Converge: the rebuilt state must equal a LIST of every kind.
  const listed = async () => {
    const out = new Map<string, { uid: string; rv: string }>();
    const lists = await Promise.all([
      core.listConfigMapForAllNamespaces({ labelSelector: `${LABEL}=1` }),
      core.listSecretForAllNamespaces({ labelSelector: `${LABEL}=1` }),
      core.listServiceAccountForAllNamespaces({ labelSelector: `${LABEL}=1` }),
    ]);
    lists.forEach((list, i) => {
      for (const o of list.items) {
        out.set(`${KINDS[i]}/${o.metadata?.namespace}/${o.metadata?.name}`, {
          uid: o.metadata?.uid ?? '',
          rv: o.metadata?.resourceVersion ?? '',
        });
      }
    });
    return out;
  };
  const { state } = checker;
  const differences = (truth: Map<string, { uid: string; rv: string }>) => {
    const out: string[] = [];
    for (const [key, v] of truth) {
      const mine = state.get(key);
      if (!mine || mine.uid !== v.uid || mine.rv !== v.rv)
        out.push(`${key}: seen ${mine ? `rv ${mine.rv}${mine.uid === v.uid ? '' : ' (other uid)'}` : 'nothing'}, is rv ${v.rv}`);
    }
    for (const [key, mine] of state) if (!truth.has(key)) out.push(`${key}: seen rv ${mine.rv}, is gone`);
    return out;
  };
  let truth = await listed();
  const convergeBy = Date.now() + 60_000;
  while ((differences(truth).length > 0 || checker.openSyncs().length > 0) && Date.now() < convergeBy) {
    await sleep(250);
    truth = await listed();
  }
  const lost = differences(truth);
  result.lost = lost.length;
  result.objects = truth.size;
  finished = true;
  mux.stop();
  await consuming;
  result.events = checker.events;
  result.resyncs = checker.resyncs;
  result.duplicates = checker.duplicates;
  result.outOfOrder = checker.outOfOrder;
  result.stray = checker.stray;
  const missed = checker.missed(made);
  result.missed = missed.count;
  if (missed.count > 0) log(`missed ${missed.count} (outside any sync window): ${missed.examples.join('; ')}`);
  const open = checker.openSyncs();
  result.unsynced = open.length;
  if (lost.length > 0) log(`lost ${lost.length}: ${lost.slice(0, 8).join('; ')}${lost.length > 8 ? '; …' : ''}`);
  if (open.length > 0) log(`never SYNCED: ${open.join(', ')}`);
  if (consumer === 'churn') {
    log(
      `churn: ${Object.entries(churn)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    log(
      `watcher errors (all kept): ${JSON.stringify(result.watcherErrors)}; refused restarts (ALREADY_STREAMING) ${result.refusedRestarts}; stray ${result.stray}; new instances' initial syncs ${checker.initialSyncs}`,
    );
  }
  recoveries.sort((a, b) => a - b);
  result.p99RecoveryMs = recoveries.length
    ? (recoveries[Math.min(recoveries.length - 1, Math.floor(recoveries.length * 0.99))] as number)
    : 0;
  result.maxRecoveryMs = recoveries.at(-1) ?? 0;
  return result;
}

async function create(
  core: CoreV1Api,
  kind: KindName,
  namespace: string,
  metadata: { name: string; labels: Record<string, string> },
): Promise<string | undefined> {
  const made =
    kind === 'ConfigMap'
      ? await core.createNamespacedConfigMap({ namespace, body: { metadata, data: { n: metadata.labels.n ?? '' } } })
      : kind === 'Secret'
        ? await core.createNamespacedSecret({ namespace, body: { metadata, stringData: { n: metadata.labels.n ?? '' } } })
        : await core.createNamespacedServiceAccount({ namespace, body: { metadata } });
  return made.metadata?.resourceVersion;
}

async function replace(
  core: CoreV1Api,
  kind: KindName,
  namespace: string,
  name: string,
  metadata: { name: string; labels: Record<string, string> },
): Promise<string | undefined> {
  const made =
    kind === 'ConfigMap'
      ? await core.replaceNamespacedConfigMap({ namespace, name, body: { metadata, data: { n: metadata.labels.n ?? '' } } })
      : kind === 'Secret'
        ? await core.replaceNamespacedSecret({ namespace, name, body: { metadata, stringData: { n: metadata.labels.n ?? '' } } })
        : await core.replaceNamespacedServiceAccount({ namespace, name, body: { metadata } });
  return made.metadata?.resourceVersion;
}

async function remove(core: CoreV1Api, kind: KindName, namespace: string, name: string) {
  if (kind === 'ConfigMap') await core.deleteNamespacedConfigMap({ namespace, name });
  else if (kind === 'Secret') await core.deleteNamespacedSecret({ namespace, name });
  else await core.deleteNamespacedServiceAccount({ namespace, name });
}
