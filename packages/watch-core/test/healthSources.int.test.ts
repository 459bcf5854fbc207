/**
 * One connection core for every source of credentials: a half-open connection (a TCP relay that stops forwarding and
 * keeps the connection open) is found by the HTTP/2 PING health check whether the credentials come from kwatch's own
 * kubeconfig, a client-node `KubeConfig`, the in-cluster service account, or go through an HTTP CONNECT proxy; every
 * watch resumes on a new connection and the changes made during the stall arrive exactly once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { startConnectProxy, startTcpFaultProxy, type TcpFaultProxy } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { inClusterKubeconfig } from '../src/client/inCluster.ts';
import { KubeClient, readKubeconfig, Watcher } from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const WATCHERS = 3;
const READ_IDLE_MS = 1000;
const PING_TIMEOUT_MS = 1000;
/** Timers on 2 shared cores fire late: what the detection may take beyond readIdle + pingTimeout. */
const SLACK_MS = 1000;
const health = { readIdleMs: READ_IDLE_MS, pingTimeoutMs: PING_TIMEOUT_MS };

/** Watches WATCHERS namespaces through `client`, stalls `relay`, changes things, and checks the watches resumed. */
async function stallAndResume(client: KubeClient, relay: TcpFaultProxy, label: string): Promise<number> {
  const namespaces = await Promise.all(Array.from({ length: WATCHERS }, () => freshNamespace('h2src')));
  await Promise.all(namespaces.map((ns) => createConfigMaps(ns, ['a', 'b'])));
  const reconnects: { code: string; message: string; at: number }[] = [];
  const watchers = namespaces.map(
    (namespace) =>
      new Watcher(ConfigMap, {
        namespace,
        transport: client,
        backoff: { initialMs: 100, maxMs: 200 },
        hooks: { reconnecting: ({ error }) => reconnects.push({ code: error.code, message: error.message, at: Date.now() }) },
      }),
  );
  const collectors = watchers.map((w) => new Collector(w.stream()));
  try {
    await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED b'))));
    expect(relay.accepted, label).toBe(1); // one shared HTTP/2 connection, through the relay
    await sleep(2 * READ_IDLE_MS); // quiet watches on a live connection: PINGs answered, nothing reconnects
    expect(reconnects, label).toEqual([]);

    const stalledAt = Date.now();
    expect(relay.stall(), label).toBe(1);
    for (const ns of namespaces) {
      await core.replaceNamespacedConfigMap({ namespace: ns, name: 'a', body: { metadata: { name: 'a' }, data: { v: '2' } } });
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'b' });
      await createConfigMaps(ns, ['during']);
    }
    await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED during'), 20_000)));
    const detectedMs = Math.max(...reconnects.map((r) => r.at)) - stalledAt;
    console.log(`${label}: ${WATCHERS} watches failed within ${detectedMs} ms of the stall`);
    expect(detectedMs, label).toBeLessThanOrEqual(READ_IDLE_MS + PING_TIMEOUT_MS + SLACK_MS);
    expect(reconnects, label).toHaveLength(WATCHERS);
    for (const r of reconnects) expect(r.code, label).toBe('STALLED');

    await Promise.all(namespaces.map((ns) => createConfigMaps(ns, ['after'])));
    await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED after'))));
  } finally {
    for (const w of watchers) w.stop();
    await Promise.all(collectors.map((c) => c.done));
  }
  for (const c of collectors) {
    expect(c.error, label).toBeUndefined();
    expect(c.lines, label).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b', 'ADDED during', 'ADDED after']);
  }
  return relay.accepted;
}

/** The admin kubeconfig, read by kwatch, with its server moved to `server`. */
function kwatchConfig(server: string) {
  const base = readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' });
  return { ...base, cluster: { ...base.cluster, server } };
}

describe('the HTTP/2 health check, for every source of credentials', () => {
  it("kwatch's own kubeconfig (client certificate)", async () => {
    const relay = await startTcpFaultProxy(cp);
    try {
      const client = new KubeClient({ kubeConfig: kwatchConfig(relay.url), ...health });
      expect(await stallAndResume(client, relay, 'kwatch kubeconfig')).toBe(2);
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it("a client-node KubeConfig: kwatch's own connections, not undici's", async () => {
    const relay = await startTcpFaultProxy(cp);
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(cp.kubeconfigPath);
      kc.setCurrentContext('admin');
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('no cluster');
      const moved = new KubeConfig();
      moved.loadFromOptions({
        clusters: [{ ...cluster, server: relay.url }],
        users: kc.users,
        contexts: kc.contexts,
        currentContext: 'admin',
      });
      const client = new KubeClient({ kubeConfig: moved, ...health });
      expect(await stallAndResume(client, relay, 'client-node KubeConfig')).toBe(2);
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it('in-cluster: a real service-account token file and CA file, found by KUBERNETES_SERVICE_HOST/PORT', async () => {
    const relay = await startTcpFaultProxy(cp);
    const namespace = await freshNamespace('sa');
    try {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'watcher' } } });
      const rbac = cp.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: `${namespace}-watcher` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace }],
        },
      });
      const issued = await core.createNamespacedServiceAccountToken({
        namespace,
        name: 'watcher',
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const dir = mkdtempSync(join(tmpdir(), 'kw-sa-'));
      writeFileSync(join(dir, 'token'), issued.status?.token ?? '');
      writeFileSync(join(dir, 'namespace'), namespace);
      const caData = readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' }).cluster.certificateAuthorityData;
      writeFileSync(join(dir, 'ca.crt'), caData ?? readFileSync(cp.state.tls.caFile));
      const port = new URL(relay.url).port;
      const inCluster = inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, dir);
      if (!inCluster) throw new Error('no in-cluster config');
      expect(inCluster.user.tokenFile).toBe(join(dir, 'token'));
      const client = new KubeClient({ kubeConfig: inCluster, ...health });
      expect(await stallAndResume(client, relay, 'in-cluster')).toBe(2);
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it('through an HTTP CONNECT proxy with credentials: TLS and HTTP/2 end to end over the tunnel', async () => {
    const relay = await startTcpFaultProxy(cp);
    const proxy = await startConnectProxy({
      auth: { user: 'kw', password: 'proxy-secret-77' },
      redirectTo: new URL(relay.url).host,
    });
    try {
      const config = kwatchConfig(cp.server);
      const client = new KubeClient({
        kubeConfig: { ...config, cluster: { ...config.cluster, proxyUrl: proxy.urlWithAuth } },
        ...health,
      });
      expect(await stallAndResume(client, relay, 'CONNECT proxy')).toBe(2);
      expect(proxy.connects.length).toBe(2); // one tunnel, then one more after the stall
      expect(proxy.connects[0]).toBe(new URL(cp.server).host);
      expect(proxy.refused).toBe(0);
    } finally {
      await proxy.stop();
      await relay.stop();
    }
  }, 60_000);

  it('HTTP/1.1 (no PING): watches are asked to end within readIdle, and a silent one is dead after readIdle + pingTimeout', async () => {
    const relay = await startTcpFaultProxy(cp);
    try {
      const client = new KubeClient({ kubeConfig: kwatchConfig(relay.url), http2: false, ...health });
      const namespace = await freshNamespace('h1idle');
      await createConfigMaps(namespace, ['a']);
      const failures: { code: string; at: number }[] = [];
      const watcher = new Watcher(ConfigMap, {
        namespace,
        transport: client,
        backoff: { initialMs: 100, maxMs: 200 },
        hooks: { reconnecting: ({ error }) => failures.push({ code: error.code, at: Date.now() }) },
      });
      const c = new Collector(watcher.stream());
      try {
        await c.until((x) => x.lines.includes('ADDED a'));
        // Quiet for 3 s on a live connection: the server ends each watch within 1 s (clamped), nothing is STALLED.
        await sleep(3 * READ_IDLE_MS);
        expect(failures.filter((f) => f.code === 'STALLED')).toEqual([]);
        const stalledAt = Date.now();
        relay.stall();
        await core.replaceNamespacedConfigMap({ namespace, name: 'a', body: { metadata: { name: 'a' }, data: { v: '2' } } });
        await createConfigMaps(namespace, ['during']);
        await c.until((x) => x.lines.includes('ADDED during'), 20_000);
        const stalled = failures.filter((f) => f.code === 'STALLED');
        expect(stalled.length).toBeGreaterThanOrEqual(1);
        const detectedMs = (stalled[0]?.at ?? Number.POSITIVE_INFINITY) - stalledAt;
        console.log(`HTTP/1.1: the stalled watch failed STALLED ${detectedMs} ms after the stall`);
        expect(detectedMs).toBeLessThanOrEqual(READ_IDLE_MS + PING_TIMEOUT_MS + SLACK_MS);
      } finally {
        watcher.stop();
        await c.done;
      }
      expect(c.error).toBeUndefined();
      expect(c.lines).toEqual(['ADDED a', 'MODIFIED a', 'ADDED during']);
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it("a proxy that refuses: a TransportError naming the proxy's status, never its password", async () => {
    const proxy = await startConnectProxy({ auth: { user: 'kw', password: 'right-password' } });
    try {
      const config = kwatchConfig(cp.server);
      const wrong = proxy.urlWithAuth.replace('right-password', 'wrong-secret-123');
      const client = new KubeClient({ kubeConfig: { ...config, cluster: { ...config.cluster, proxyUrl: wrong } } });
      const error = await client
        .request({ path: '/api/v1/namespaces', signal: AbortSignal.timeout(20_000) })
        .catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ name: 'TransportError', code: 'NETWORK_ERROR' });
      expect(String((error as Error).message)).toContain('407');
      expect(`${(error as Error).message} ${(error as Error).stack}`).not.toContain('wrong-secret-123');
      expect(proxy.refused).toBe(1);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});
