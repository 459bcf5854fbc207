/**
 * kwatch's own connections (Node's http2/https, used for every kubeconfig read by readKubeconfig,
 * the default): shared HTTP/2 connections, HTTP/1.1 when asked, a fresh connection beyond 100
 * streams, cancellation at every phase, and a process that exits when its watchers stop.
 */
import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ConfigMap } from '@kwatch/models/v1';
import { startFaultProxy } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { KubeClient, type KwatchError, readKubeconfig, Watcher } from '../src/index.ts';
import { Collector, connectionsOpenedBy, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const kubeConfig = () => readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' });

// One client per watcher, each from its own read of the file: sharing must not depend on object identity.
const watchAll = (count: number, http2: boolean) =>
  connectionsOpenedBy(
    count,
    (namespace) => new Watcher(ConfigMap, { namespace, transport: new KubeClient({ kubeConfig: kubeConfig(), http2 }) }),
  );

describe("kwatch's own connections (node:http2 / node:https)", () => {
  it('over HTTP/2, 20 watchers share one connection', async () => {
    expect(await watchAll(20, true)).toBeLessThanOrEqual(1);
  });

  it('beyond 100 streams a second connection opens; all receive their events', async () => {
    const opened = await watchAll(120, true);
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(2);
  }, 60_000);

  it('with http2: false, each of 20 watches has a connection of its own', async () => {
    expect(await watchAll(20, false)).toBeGreaterThanOrEqual(20);
  });

  it('an abort ends a request while connecting, while waiting for headers, and while reading', async () => {
    const sockets = new Set<Socket>();
    const hole = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const server = `https://127.0.0.1:${(hole.address() as { port: number }).port}`;
    const client = new KubeClient({ kubeConfig: { ...kubeConfig(), cluster: { ...kubeConfig().cluster, server } } });
    try {
      const t0 = Date.now();
      const err = await client.request({ path: '/api', signal: AbortSignal.timeout(100) }).catch((e: unknown) => e as Error);
      expect((err as Error).name).toBe('TimeoutError');
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      for (const s of sockets) s.destroy();
      hole.close();
    }
    const live = new KubeClient({ kubeConfig: kubeConfig() });
    const ac = new AbortController();
    const body = await live.stream({
      path: '/api/v1/namespaces',
      query: new URLSearchParams({ watch: 'true' }),
      signal: ac.signal,
    });
    const reading = (async () => {
      for await (const _ of body) {
        // the initial ADDED events, then nothing until the abort
      }
    })();
    setTimeout(() => ac.abort(new Error('stop reading')), 200);
    await expect(reading).rejects.toThrow();
  });

  it('a 404 is an ApiError with the server Status; PUT with a stale resourceVersion is 409', async () => {
    const client = new KubeClient({ kubeConfig: kubeConfig() });
    const signal = AbortSignal.timeout(10_000);
    const ns = await freshNamespace('native');
    const err = (await client
      .request({ path: `/api/v1/namespaces/${ns}/configmaps/none`, signal })
      .catch((e) => e)) as KwatchError & { httpStatus: number };
    expect([err.code, err.httpStatus]).toEqual(['NOT_FOUND', 404]);
    const made = await client.request<ConfigMap>({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { metadata: { name: 'x' }, data: { a: '1' } },
      signal,
    });
    await client.request({
      method: 'PUT',
      path: `/api/v1/namespaces/${ns}/configmaps/x`,
      body: { ...made, data: { a: '2' } },
      signal,
    });
    const stale = (await client
      .request({ method: 'PUT', path: `/api/v1/namespaces/${ns}/configmaps/x`, body: { ...made, data: { a: '3' } }, signal })
      .catch((e) => e)) as KwatchError & { httpStatus: number };
    expect([stale.code, stale.httpStatus]).toEqual(['HTTP_ERROR', 409]);
    await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/configmaps/x`, signal });
  });

  it('survives an apiserver restart (its connections die) and a cut through a proxy: loses and repeats nothing', async () => {
    const ns = await freshNamespace('native');
    await createConfigMaps(ns, ['a']);
    const watcher = new Watcher(ConfigMap, {
      namespace: ns,
      transport: new KubeClient({ kubeConfig: kubeConfig() }),
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const c = new Collector(watcher.stream());
    await c.until((x) => x.lines.includes('ADDED a'));
    await cp.stopApiserver();
    await sleep(500);
    await cp.startApiserver();
    await createConfigMaps(ns, ['after-restart']);
    await c.until((x) => x.lines.includes('ADDED after-restart'), 60_000);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
    expect(c.lines).toEqual(['ADDED a', 'ADDED after-restart']);

    const proxy = await startFaultProxy(cp);
    try {
      const base = kubeConfig();
      const viaProxy = {
        ...base,
        cluster: { ...base.cluster, server: proxy.url },
        user: { ...base.user, clientCertificateData: undefined, clientKeyData: undefined, token: cp.state.tokens.admin },
      };
      const w2 = new Watcher(ConfigMap, {
        namespace: ns,
        transport: new KubeClient({ kubeConfig: viaProxy }),
        backoff: { initialMs: 100, maxMs: 200 },
      });
      const c2 = new Collector(w2.stream());
      await c2.until((x) => x.lines.includes('ADDED after-restart'));
      proxy.cut({ midLine: true });
      await createConfigMaps(ns, ['after-cut']);
      await c2.until((x) => x.lines.includes('ADDED after-cut'), 20_000);
      expect(c2.lines).toEqual(['ADDED a', 'ADDED after-restart', 'ADDED after-cut']);
      expect(w2.health().reconnects).toBeGreaterThanOrEqual(1);
      w2.stop();
      await c2.done;
    } finally {
      await proxy.stop();
    }
  }, 90_000);

  it('a process exits once its watcher stops (idle connections hold nothing open)', async () => {
    const probe = `
      const { Watcher } = await import('${join(import.meta.dirname, '..', 'src', 'index.ts')}');
      const { ConfigMap } = await import('@kwatch/models/v1/ConfigMap');
      const w = new Watcher(ConfigMap, { namespace: 'kube-system' });
      for await (const e of w.stream({ markers: true })) if (e.type === 'SYNCED') break;
      console.log('synced');
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@kwatch/source', '--input-type=module', '-e', probe],
      { cwd: join(import.meta.dirname, '..'), env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('synced');
  });
});
