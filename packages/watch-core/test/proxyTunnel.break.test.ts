// Breaking the CONNECT tunnel: malformed proxy URLs with passwords, a signal already aborted, proxies that refuse.
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, TransportError } from '@kwatch/models';
import { ConfigMap } from '@kwatch/models/v1';
import { startConnectProxy } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { openTunnel } from '../src/client/proxyTunnel.ts';
import { KubeClient, readKubeconfig, Watcher } from '../src/index.ts';

const SECRET = 'hunter2-S3cr3t';

/** Every way an error reaches a log: none may show the password. */
function leaks(err: unknown): boolean {
  const e = err as Error;
  const views = [String(e), e?.stack ?? '', JSON.stringify(e) ?? '', inspect(e, { depth: 9, showHidden: true })];
  return views.some((v) => v.includes(SECRET) || v.includes(encodeURIComponent(SECRET)));
}

async function failure(p: () => Promise<unknown>): Promise<unknown> {
  try {
    await p();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** A TCP server counting connections that answers each with `answer` (a raw HTTP response), or a tunnel echo. */
async function rawProxy(answer: string): Promise<{ port: number; connections: () => number; close: () => void }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => s.end(answer));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('openTunnel', () => {
  it('rejects a malformed proxy URL with a typed error that quotes none of it', async () => {
    const signal = AbortSignal.timeout(5000);
    for (const url of [`http://user:${SECRET}@proxy.internal:99999`, `http://user:${SECRET}%ZZ@127.0.0.1:1`]) {
      const err = await failure(() => openTunnel(url, '10.0.0.1', 6443, signal, 1000));
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('KUBECONFIG_ERROR');
      expect(leaks(err)).toBe(false);
    }
  });

  it('a watch whose kubeconfig proxy-url is malformed fails at once, typed (it retried forever before)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-break-'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', proxy-url: 'http://user:${SECRET}@proxy.invalid:99999'}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const reconnects: unknown[] = [];
    const watcher = new Watcher(ConfigMap, {
      namespace: 'x',
      transport: new KubeClient({ kubeConfig: readKubeconfig({ path }) }),
      backoff: { initialMs: 10, maxMs: 20 },
      hooks: { reconnecting: ({ error }) => reconnects.push(error) },
    });
    const timer = setTimeout(() => watcher.stop(), 3000);
    try {
      const err = await failure(() => watcher.stream().next());
      expect(err).toBeInstanceOf(ConfigError);
      expect(reconnects).toEqual([]);
      expect(leaks(err)).toBe(false);
    } finally {
      clearTimeout(timer);
      watcher.stop();
    }
  });

  it('opens no tunnel for a signal that has already aborted', async () => {
    const proxy = await rawProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
    try {
      const reason = new Error('stopped before');
      const err = await failure(() =>
        openTunnel(`http://127.0.0.1:${proxy.port}`, '10.0.0.1', 6443, AbortSignal.abort(reason), 1000),
      );
      expect(err).toBe(reason);
      await new Promise((r) => setTimeout(r, 50));
      expect(proxy.connections()).toBe(0);
    } finally {
      proxy.close();
    }
  });

  it('a 407 without Proxy-Authenticate, a 502 with a body: typed, naming the status, never the password', async () => {
    const answers = [
      'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 8\r\n\r\nno route',
    ];
    for (const answer of answers) {
      const proxy = await rawProxy(answer);
      try {
        const url = `http://us%20er:${encodeURIComponent(`${SECRET}@:/%`)}@127.0.0.1:${proxy.port}`;
        const err = await failure(() => openTunnel(url, 'fd00::1', 6443, AbortSignal.timeout(5000), 2000));
        expect(err).toBeInstanceOf(TransportError);
        expect((err as TransportError).code).toBe('NETWORK_ERROR');
        expect(String(err)).toMatch(/CONNECT \[fd00::1\]:6443 through http:\/\/127\.0\.0\.1:\d+: the proxy answered (407|502)/);
        expect(leaks(err)).toBe(false);
      } finally {
        proxy.close();
      }
    }
  });

  it('sends a %-encoded user and password decoded, and the tunnel carries bytes both ways', async () => {
    const password = `${SECRET}@:/% é`;
    const echo = createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const proxy = await startConnectProxy({ auth: { user: 'us er', password } });
    try {
      const port = (echo.address() as AddressInfo).port;
      const socket = await openTunnel(proxy.urlWithAuth, '127.0.0.1', port, AbortSignal.timeout(5000), 2000);
      socket.write('ping');
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      expect(chunk.toString()).toBe('ping');
      expect([proxy.refused, proxy.connects]).toEqual([0, [`127.0.0.1:${port}`]]);
      socket.destroy();
      // The same proxy, a wrong password: refused, and the error names neither password.
      const wrong = proxy.urlWithAuth.replace(encodeURIComponent(password), encodeURIComponent(`${SECRET}-old`));
      const err = await failure(() => openTunnel(wrong, '127.0.0.1', port, AbortSignal.timeout(5000), 2000));
      expect(String(err)).toMatch(/the proxy answered 407/);
      expect(leaks(err)).toBe(false);
    } finally {
      await proxy.stop();
      echo.close();
    }
  });
});
