/**
 * HTTPS_PROXY / NO_PROXY on the real control plane: with no proxy-url in the kubeconfig, watches and requests go
 * through the proxy the environment names (as kubectl's do), unless NO_PROXY exempts the server; a kubeconfig
 * proxy-url wins. The server's name resolves nowhere: only the proxy (tunnelling every CONNECT to the apiserver)
 * can reach it, so a request that succeeds went through it.
 */
import { ConfigMap } from '@kwatch/models/v1';
import { startConnectProxy } from '@kwatch/testenv';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, readKubeconfig, Watcher } from '../src/index.ts';
import { cp, createConfigMaps, freshNamespace } from './helpers.ts';

const NAMES = ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));

afterEach(() => {
  for (const n of NAMES) {
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  }
});

/** The admin's kubeconfig with a server name that only the proxy can reach (verified as `localhost`, its cert's name). */
function unreachableConfig(proxyUrl?: string) {
  const base = readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' });
  const port = new URL(cp.server).port;
  return {
    ...base,
    cluster: { ...base.cluster, server: `https://kube.kwatch-proxy.invalid:${port}`, tlsServerName: 'localhost', proxyUrl },
  };
}

describe('the proxy from the environment', () => {
  it('HTTPS_PROXY carries the watch (TLS and HTTP/2 over the tunnel) when the kubeconfig names no proxy', async () => {
    const namespace = await freshNamespace('envproxy');
    await createConfigMaps(namespace, ['a', 'b']);
    const proxy = await startConnectProxy({ redirectTo: new URL(cp.server).host });
    try {
      process.env.HTTPS_PROXY = proxy.url;
      process.env.NO_PROXY = 'other.example,10.0.0.0/8';
      const client = new KubeClient({ kubeConfig: unreachableConfig() });
      const watcher = new Watcher(ConfigMap, { namespace, transport: client });
      const seen: string[] = [];
      for await (const e of watcher.stream({ markers: true })) {
        if (e.type === 'SYNCED') break;
        if (e.type === 'ADDED') seen.push(e.object.metadata?.name ?? '');
      }
      expect(seen.sort()).toEqual(['a', 'b']);
      expect(proxy.connects[0]).toBe(`kube.kwatch-proxy.invalid:${new URL(cp.server).port}`);
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  it('NO_PROXY exempts the server (a direct connection, which cannot resolve it), and proxy-url wins over the environment', async () => {
    const proxy = await startConnectProxy({ redirectTo: new URL(cp.server).host });
    try {
      process.env.HTTPS_PROXY = proxy.url;
      process.env.NO_PROXY = '.kwatch-proxy.invalid';
      const direct = new KubeClient({ kubeConfig: unreachableConfig() });
      const signal = AbortSignal.timeout(10_000);
      await expect(direct.request({ path: '/version', signal })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
      expect(proxy.connects).toHaveLength(0);

      // The kubeconfig's proxy-url is used even when the environment names another (here: nothing listens there).
      process.env.HTTPS_PROXY = 'http://127.0.0.1:1';
      delete process.env.NO_PROXY;
      const configured = new KubeClient({ kubeConfig: unreachableConfig(proxy.url) });
      const version = await configured.request<{ major?: string }>({ path: '/version', signal });
      expect(version.major).toBe('1');
      expect(proxy.connects).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});
