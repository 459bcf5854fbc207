/**
 * client-go's HTTP/2 health check in kwatch's own connections: a shared HTTP/2 connection made half-open (a TCP
 * relay that keeps it open and forwards nothing more) is PINGed after `readIdleMs` without a read and destroyed when
 * the PING goes unanswered for `pingTimeoutMs`: every watch on it reconnects at once on a new connection and resumes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { startTcpFaultProxy } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { HTTP2_HEALTH_DEFAULTS, KubeClient, readKubeconfig, Watcher } from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const WATCHERS = 5;
const READ_IDLE_MS = 1000;
const PING_TIMEOUT_MS = 1000;
/** Timers on 2 shared cores fire late: what the detection may take beyond readIdle + pingTimeout. */
const SLACK_MS = 750;

describe('HTTP/2 health check (PING after read-idle)', () => {
  it("defaults are client-go's: 30 s read-idle, 15 s to answer; other values are options", () => {
    expect(HTTP2_HEALTH_DEFAULTS).toEqual({ readIdleMs: 30_000, pingTimeoutMs: 15_000 });
    expect(new KubeClient().http2Health).toEqual({ readIdleMs: 30_000, pingTimeoutMs: 15_000 });
    expect(new KubeClient({ readIdleMs: 1000, pingTimeoutMs: 500 }).http2Health).toEqual({
      readIdleMs: 1000,
      pingTimeoutMs: 500,
    });
    expect(() => new KubeClient({ pingTimeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('a half-open shared connection is found within readIdle + pingTimeout; every watch resumes, nothing lost or twice', async () => {
    const relay = await startTcpFaultProxy(cp);
    try {
      const base = readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' });
      const client = new KubeClient({
        kubeConfig: { ...base, cluster: { ...base.cluster, server: relay.url } }, // TLS (client cert) end to end
        readIdleMs: READ_IDLE_MS,
        pingTimeoutMs: PING_TIMEOUT_MS,
      });
      const namespaces = await Promise.all(Array.from({ length: WATCHERS }, () => freshNamespace('h2ping')));
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
      await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED b'))));
      expect(relay.accepted).toBe(1); // all watchers share one HTTP/2 connection

      // Quiet watches on a live connection: PINGs are sent and answered, nothing reconnects.
      await sleep(3 * READ_IDLE_MS);
      expect(reconnects).toEqual([]);

      const stalledAt = Date.now();
      expect(relay.stall()).toBe(1);
      // Changes while the connection is half-open (made on another connection, not through the relay).
      for (const ns of namespaces) {
        await core.replaceNamespacedConfigMap({ namespace: ns, name: 'a', body: { metadata: { name: 'a' }, data: { v: '2' } } });
        await core.deleteNamespacedConfigMap({ namespace: ns, name: 'b' });
        await createConfigMaps(ns, ['during']);
      }
      await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED during'), 20_000)));
      const detectedMs = Math.min(...reconnects.map((r) => r.at)) - stalledAt;
      const lastMs = Math.max(...reconnects.map((r) => r.at)) - stalledAt;
      console.log(`HTTP/2 PING health check: ${WATCHERS} watches failed ${detectedMs}..${lastMs} ms after the stall`);
      expect(detectedMs).toBeLessThanOrEqual(READ_IDLE_MS + PING_TIMEOUT_MS + SLACK_MS);
      expect(lastMs - detectedMs).toBeLessThan(100); // every stream at once, not each on its own watchdog
      expect(reconnects).toHaveLength(WATCHERS);
      for (const r of reconnects) {
        expect(r.code).toBe('STALLED');
        expect(r.message).toContain('PING');
      }
      expect(relay.accepted).toBe(2); // they reconnected together on one new connection
      expect(relay.openConnections).toBe(1); // the half-open one was closed

      await Promise.all(namespaces.map((ns) => createConfigMaps(ns, ['after'])));
      await Promise.all(collectors.map((c) => c.until((x) => x.lines.includes('ADDED after'))));
      for (const w of watchers) w.stop();
      await Promise.all(collectors.map((c) => c.done));
      for (const c of collectors) {
        expect(c.error).toBeUndefined();
        expect(c.lines).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b', 'ADDED during', 'ADDED after']);
      }
    } finally {
      await relay.stop();
    }
  }, 60_000);
});
