// A tunnel through an HTTP(S) proxy (HTTP CONNECT), so kwatch's own TLS and HTTP/2 (with its health check) run over it.
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import type * as Net from 'node:net';
import { ConfigError, TransportError } from '../internal/index.ts';

const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;
const https = require('node:https') as typeof Https;

/** True for a proxy URL kwatch tunnels through itself (`http://` or `https://`); SOCKS proxies are not. */
export function isTunnelProxy(proxyUrl: string | undefined): proxyUrl is string {
  return proxyUrl !== undefined && /^https?:\/\//i.test(proxyUrl);
}

/** The proxy as errors may name it: scheme, host and port, never its user or password. */
function proxyName(proxyUrl: string): string {
  try {
    const u = new URL(proxyUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the proxy';
  }
}

/**
 * Opens a tunnel to `host:port` through the proxy `proxyUrl` with an HTTP CONNECT request: the raw socket once the
 * proxy answered 200, for the caller's TLS to run over. Credentials in the proxy URL (`http://user:pass@proxy:3128`)
 * go into `Proxy-Authorization` and never into an error message. An `https://` proxy is reached over TLS verified
 * against the system's CAs. Rejects with a `TransportError` `NETWORK_ERROR` when the proxy refuses or cannot be
 * reached, a `ConfigError` `KUBECONFIG_ERROR` when `proxyUrl` is not a URL (quoting none of it), or with the signal's
 * reason when `signal` aborts (or had aborted: no tunnel is opened then).
 *
 * @example
 * ```ts
 * const socket = await openTunnel('http://proxy.internal:3128', '10.0.0.1', 6443, signal, 30_000);
 * const secure = tls.connect({ socket, servername: 'kubernetes', ALPNProtocols: ['h2'] });
 * ```
 */
export function openTunnel(
  proxyUrl: string,
  host: string,
  port: number,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Net.Socket> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let proxy: URL;
  let user: string;
  try {
    proxy = new URL(proxyUrl);
    user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  } catch {
    // Neither URL's error (its `input` is the whole URL) nor the URL itself: it may carry a password.
    return Promise.reject(
      new ConfigError('KUBECONFIG_ERROR', 'The proxy URL is not a valid URL, or its user or password is not %-encoded'),
    );
  }
  const secure = proxy.protocol === 'https:';
  const target = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username || proxy.password) headers['proxy-authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
  const name = proxyName(proxyUrl);
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      settle();
      req.destroy();
      reject(new TransportError('NETWORK_ERROR', `CONNECT ${target} through ${name}: ${why}`));
    };
    const req = (secure ? https : http).request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || (secure ? 443 : 80)),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => {
      req.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    req.once('connect', (res, socket, head) => {
      settle();
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new TransportError('NETWORK_ERROR', `CONNECT ${target} through ${name}: the proxy answered ${res.statusCode}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      settle();
      // The error's own message names addresses only; the proxy URL (and its credentials) is never quoted.
      reject(new TransportError('NETWORK_ERROR', `CONNECT ${target} through ${name}: ${err.code ?? err.name}: ${err.message}`));
    });
    req.end();
  });
}
