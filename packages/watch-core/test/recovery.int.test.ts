import { getEventListeners } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { type FaultProxy, startFaultProxy } from '@kwatch/testenv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KwatchError, Watcher } from '../src/index.ts';
import { Collector, cp, createConfigMaps, freshNamespace } from './helpers.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(cp);
});
afterAll(async () => {
  await proxy.stop();
});
/** Every watcher a test makes, stopped after it even when the test fails. */
const live = new Set<Watcher<typeof ConfigMap>>();
afterEach(() => {
  for (const w of live) w.stop();
  live.clear();
});
function track(w: Watcher<typeof ConfigMap>): Watcher<typeof ConfigMap> {
  live.add(w);
  return w;
}

/** A watcher through the proxy, recording its hooks. */
function watched(ns: string, extra: Partial<ConstructorParameters<typeof Watcher<typeof ConfigMap>>[1]> = {}) {
  const errors: KwatchError[] = [];
  const delays: number[] = [];
  const watcher = track(
    new Watcher(ConfigMap, {
      namespace: ns,
      kubeConfig: proxy.kubeConfig(),
      backoff: { initialMs: 200, maxMs: 1000 },
      hooks: { error: (e) => errors.push(e), reconnecting: (i) => delays.push(i.delayMs) },
      ...extra,
    }),
  );
  return { watcher, errors, delays };
}

function expectOnce(c: Collector, lines: string[]): void {
  for (const l of lines) expect(c.count(l), l).toBe(1);
}

describe('recovery through faults, against the real apiserver', () => {
  it('survives an apiserver restart: reconnects, loses nothing, repeats nothing', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const watcher = track(
      new Watcher(ConfigMap, { namespace: ns, kubeConfig: cp.kubeConfig, backoff: { initialMs: 200, maxMs: 1000 } }),
    );
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    await createConfigMaps(ns, ['before-restart']);
    await c.until((x) => x.lines.includes('ADDED before-restart'));
    await cp.stopApiserver();
    await sleep(500);
    await cp.startApiserver();
    await createConfigMaps(ns, ['after-restart']);
    await c.until((x) => x.lines.includes('ADDED after-restart'), 60_000);
    expect(c.lines).toEqual(['ADDED a', 'ADDED before-restart', 'ADDED after-restart']);
    expect(watcher.health().reconnects).toBeGreaterThanOrEqual(1);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
  });

  it('a connection cut in the middle of a line: reconnects from the last resourceVersion, the event arrives once', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const { watcher, errors } = watched(ns);
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    expect(proxy.cut({ midLine: true })).toBe(1);
    await createConfigMaps(ns, ['victim']);
    await c.until((x) => x.lines.includes('ADDED victim'));
    await createConfigMaps(ns, ['next']);
    await c.until((x) => x.lines.includes('ADDED next'));
    expect(c.lines).toEqual(['ADDED a', 'ADDED victim', 'ADDED next']);
    // The cut shows as a terminated connection (or a line without its end): retryable, and retried.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.retryable)).toBe(true);
    watcher.stop();
    await c.done;
  });

  it('a stalled (half-open) connection is detected by the inactivity watchdog and replaced', async () => {
    const ns = await freshNamespace();
    const { watcher, errors } = watched(ns, { inactivityTimeoutMs: 1500, allowWatchBookmarks: false });
    const c = new Collector(watcher.stream());
    await createConfigMaps(ns, ['a']);
    await c.until((x) => x.lines.includes('ADDED a'));
    expect(proxy.stall()).toBe(1);
    await createConfigMaps(ns, ['during-stall']);
    await c.until((x) => x.lines.includes('ADDED during-stall'), 15_000);
    expect(errors.map((e) => e.code)).toContain('STALLED');
    expectOnce(c, ['ADDED a', 'ADDED during-stall']);
    watcher.stop();
    await c.done;
  });

  it('500 and 429 are retried with backoff, honouring Retry-After', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    proxy.failNext({ status: 500, match: `/namespaces/${ns}/` }, 2);
    proxy.failNext({ status: 429, retryAfterSeconds: 1, match: `/namespaces/${ns}/` });
    const { watcher, errors, delays } = watched(ns);
    const started = Date.now();
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    expect(errors.map((e) => e.code)).toEqual(['SERVER_ERROR', 'SERVER_ERROR', 'TOO_MANY_REQUESTS']);
    expect(delays).toHaveLength(3);
    expect(delays[2]).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(errors[2]?.message).toContain('injected by the fault proxy: 429 TooManyRequests');
    watcher.stop();
    await c.done;
  });

  it('HTTP 410 on a watch request makes a managed stream resync without repeating unchanged objects', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a', 'b']);
    const { watcher } = watched(ns);
    const c = new Collector(watcher.stream({ markers: true }));
    await c.until((x) => x.lines.includes('SYNCED'));
    proxy.failNext({ status: 410, match: `/namespaces/${ns}/configmaps?` });
    proxy.cut();
    await c.until((x) => x.count('SYNCED') === 2, 15_000, 'the resync');
    expect(c.lines.slice(3)).toEqual(['RESYNC', 'SYNCED']); // a and b unchanged: nothing delivered again
    await createConfigMaps(ns, ['c']);
    await c.until((x) => x.lines.includes('ADDED c'));
    expect(watcher.health().relists).toBe(1);
    watcher.stop();
    await c.done;
  });

  it('a slow network (every line delayed 300 ms) delays events but loses and repeats nothing', async () => {
    const ns = await freshNamespace();
    const { watcher, errors } = watched(ns);
    const c = new Collector(watcher.stream());
    await createConfigMaps(ns, ['a']);
    await c.until((x) => x.lines.includes('ADDED a'));
    proxy.delay(300);
    try {
      const t0 = Date.now();
      await createConfigMaps(ns, ['slow']);
      await c.until((x) => x.lines.includes('ADDED slow'));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    } finally {
      proxy.delay(0);
    }
    expectOnce(c, ['ADDED a', 'ADDED slow']);
    expect(errors).toEqual([]);
    watcher.stop();
    await c.done;
  });

  it('a corrupted line is an error (never dropped): the stream reconnects and the event arrives once', async () => {
    const ns = await freshNamespace();
    const { watcher, errors } = watched(ns);
    const c = new Collector(watcher.stream());
    await createConfigMaps(ns, ['a']);
    await c.until((x) => x.lines.includes('ADDED a'));
    proxy.corruptNextLine();
    await createConfigMaps(ns, ['corrupted']);
    await c.until((x) => x.lines.includes('ADDED corrupted'));
    expect(errors.map((e) => e.code)).toContain('DECODE_ERROR');
    expectOnce(c, ['ADDED a', 'ADDED corrupted']);
    watcher.stop();
    await c.done;
  });

  it('re-authenticates on every reconnect (an exec plugin whose token rotates)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kwatch-exec-'));
    const tokenFile = join(dir, 'token');
    const calls = join(dir, 'calls');
    writeFileSync(tokenFile, cp.state.tokens.admin);
    writeFileSync(calls, '');
    const script = join(dir, 'cred.sh');
    writeFileSync(
      script,
      `echo call >> '${calls}'\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$(cat '${tokenFile}')" "$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)"\n`,
    );
    const base = proxy.kubeConfig();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: base.clusters,
      users: [
        {
          name: 'exec',
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: [script], interactiveMode: 'Never' },
        },
      ],
      contexts: [{ name: 'exec', cluster: base.getCurrentCluster()?.name ?? '', user: 'exec' }],
      currentContext: 'exec',
    });
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const watcher = track(new Watcher(ConfigMap, { namespace: ns, kubeConfig: kc, backoff: { initialMs: 100, maxMs: 200 } }));
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    // Rotate to the restricted user's token, let the credential expire, cut: the reconnect must use it.
    writeFileSync(tokenFile, cp.state.tokens.restricted);
    await sleep(2100);
    proxy.cut();
    await c.done;
    expect((c.error as KwatchError).code).toBe('FORBIDDEN');
    expect((c.error as KwatchError).message).toContain('User "restricted" cannot');
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(2);
    expect(String(c.error)).not.toContain(cp.state.tokens.restricted);
  });
});

describe('stopping: within 100 ms in every phase, leaving nothing behind', () => {
  /** A TCP server that accepts and never answers: connects hang forever. */
  async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return {
      url: `https://127.0.0.1:${port}`,
      close: () => {
        for (const s of sockets) s.destroy();
        return new Promise((r) => server.close(() => r()));
      },
    };
  }

  function kubeConfigFor(server: string): KubeConfig {
    const base = cp.kubeConfigFor('admin-token');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...base.getCurrentCluster()!, name: 'x', server }],
      users: base.users,
      contexts: [{ name: 'x', cluster: 'x', user: 'admin-token' }],
      currentContext: 'x',
    });
    return kc;
  }

  function resources(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
    return out;
  }

  async function timeToStop(c: Collector, stop: () => void): Promise<number> {
    const t0 = performance.now();
    stop();
    await c.done;
    return performance.now() - t0;
  }

  it.each(['connect', 'list'] as const)('during %s (a server that never answers)', async (phase) => {
    const hole = await blackHole();
    const watcher = track(
      new Watcher(ConfigMap, { namespace: 'default', kubeConfig: kubeConfigFor(hole.url), watchList: phase === 'connect' }),
    );
    const c = new Collector(watcher.stream());
    await sleep(300);
    expect(watcher.health().state).toBe(phase === 'connect' ? 'connecting' : 'listing');
    expect(await timeToStop(c, () => watcher.stop())).toBeLessThan(100);
    expect(c.error).toBeUndefined();
    await hole.close();
  });

  it('during a stream, by stop(), by an AbortSignal, and by break — connection closed, no listener left', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const before = resources();

    const w1 = watched(ns).watcher;
    const c1 = new Collector(w1.stream());
    await c1.until((x) => x.lines.includes('ADDED a'));
    expect(proxy.activeStreams).toBe(1);
    expect(await timeToStop(c1, () => w1.stop())).toBeLessThan(100);

    const ac = new AbortController();
    const w2 = watched(ns).watcher;
    const c2 = new Collector(w2.stream({ signal: ac.signal }));
    await c2.until((x) => x.lines.includes('ADDED a'));
    expect(await timeToStop(c2, () => ac.abort())).toBeLessThan(100);

    const w3 = watched(ns).watcher;
    for await (const e of w3.stream()) {
      expect(e.object.metadata?.name).toBe('a');
      break;
    }
    await sleep(100);
    expect(proxy.activeStreams).toBe(0);
    const after = resources();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(w1.health().state).toBe('stopped');
  });

  it('during backoff (Retry-After 30 s)', async () => {
    const ns = await freshNamespace();
    proxy.failNext({ status: 503, retryAfterSeconds: 30, match: `/namespaces/${ns}/` });
    const { watcher } = watched(ns);
    const c = new Collector(watcher.stream());
    await sleep(300);
    expect(watcher.health().state).toBe('backoff');
    expect(await timeToStop(c, () => watcher.stop())).toBeLessThan(100);
  });

  it('a stopped watcher streams again from where it was', async () => {
    const ns = await freshNamespace();
    await createConfigMaps(ns, ['a']);
    const { watcher } = watched(ns);
    const c1 = new Collector(watcher.stream());
    await c1.until((x) => x.lines.includes('ADDED a'));
    watcher.stop();
    await c1.done;
    await createConfigMaps(ns, ['b']);
    const c2 = new Collector(watcher.stream());
    await c2.until((x) => x.lines.includes('ADDED b'));
    expect(c2.lines).toEqual(['ADDED b']);
    watcher.stop();
    await c2.done;
  });
});
