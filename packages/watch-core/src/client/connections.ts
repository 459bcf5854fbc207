// Shared undici dispatchers per endpoint and TLS identity, for client-node KubeConfigs and proxies.
import { createHash } from 'node:crypto';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';
import type { Endpoint } from './endpoint.ts';

/** TLS material and settings, as a kubeconfig yields them (`rejectUnauthorized` is set only by `insecure-skip-tls-verify`). */
type TlsOptions = Record<string, unknown>;

/** At most this many distinct (server, identity) dispatchers are kept; the least recently used one is closed gracefully. */
const MAX_DISPATCHERS = 32;
const dispatchers = new Map<string, Dispatcher>();
type Connect = NonNullable<Agent.Options['connect']>;

function fingerprint(parts: unknown[]): string {
  const h = createHash('sha256');
  for (const part of parts) {
    if (Buffer.isBuffer(part) || part instanceof Uint8Array) h.update(part);
    else h.update(JSON.stringify(part ?? null) ?? 'undefined');
    h.update('\0');
  }
  return h.digest('hex');
}

/** The dispatcher kept under `key`, or a new one from `create` (the least recently used one beyond the cap is closed). */
function cached(key: string, create: () => Dispatcher): Dispatcher {
  const found = dispatchers.get(key);
  if (found) {
    dispatchers.delete(key); // re-insert: most recently used last
    dispatchers.set(key, found);
    return found;
  }
  const dispatcher = create();
  dispatchers.set(key, dispatcher);
  if (dispatchers.size > MAX_DISPATCHERS) {
    const [oldestKey, oldest] = dispatchers.entries().next().value as [string, Dispatcher];
    dispatchers.delete(oldestKey);
    void oldest.close().catch(() => {}); // graceful: running requests finish first
  }
  return dispatcher;
}

/**
 * The shared undici dispatcher of one endpoint (server, TLS identity, proxy), for endpoints behind
 * a proxy (kwatch's own connections, nativeHttp.ts, serve the others): every request with the
 * same endpoint reuses its connections, over HTTP/2 when `http2` and the server offers h2.
 * A rotated client certificate is a new endpoint, so it gets new connections; the old ones
 * finish their requests and close. `undefined` for plain HTTP without a proxy (undici's global
 * dispatcher). Keys are hashes; no credential is kept beyond what the connections hold.
 *
 * @example
 * ```ts
 * const dispatcher = dispatcherFor({ server: 'https://10.0.0.1:6443', ca, cert, key }, true);
 * ```
 */
export function dispatcherFor(endpoint: Endpoint, http2: boolean): Dispatcher | undefined {
  const tls = {
    ...(endpoint.ca ? { ca: endpoint.ca } : {}),
    ...(endpoint.cert ? { cert: endpoint.cert } : {}),
    ...(endpoint.key ? { key: endpoint.key } : {}),
    ...(endpoint.servername ? { servername: endpoint.servername } : {}),
    ...(endpoint.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
  const https = endpoint.server.startsWith('https:');
  if (!https && !endpoint.proxyUrl) return undefined;
  const key = fingerprint([
    'endpoint',
    endpoint.server,
    endpoint.proxyUrl ?? '',
    http2,
    ...['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'].map((k) => (tls as Record<string, unknown>)[k]),
  ]);
  return cached(key, () =>
    endpoint.proxyUrl
      ? new ProxyAgent({ uri: endpoint.proxyUrl, requestTls: tls, allowH2: http2 })
      : new Agent({ connect: tls, allowH2: http2 }),
  );
}

/**
 * The shared dispatcher for one cluster and one TLS identity of a client-node `KubeConfig`
 * (CA, client certificate, proxy), as {@link dispatcherFor} does for kwatch's own kubeconfig.
 * `'unsupported'` for SOCKS proxies (client-node's own per-request dispatcher is used then).
 *
 * @example
 * ```ts
 * const https = {};
 * await kc.applyToHTTPSOptions(https);
 * const dispatcher = sharedDispatcher(kc, kc.getCurrentCluster(), https, true);
 * ```
 */
export function sharedDispatcher(
  kc: KubeConfig,
  cluster: Cluster,
  tls: TlsOptions,
  http2: boolean,
): Dispatcher | undefined | 'unsupported' {
  const options = kc.createDispatcherOptions(cluster, tls);
  if (options.type === 'none') return undefined;
  if (options.type === 'socks') return 'unsupported';
  const connect = options.type === 'agent' ? options.connect : options.requestTls;
  const key = fingerprint([
    options.type,
    cluster.server,
    options.type === 'proxy' ? options.uri : '',
    http2,
    ...['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'].map(
      (k) => (connect as Record<string, unknown>)[k],
    ),
  ]);
  // client-node types these with its own copy of undici's types; the values are plain TLS options.
  return cached(key, () =>
    options.type === 'agent'
      ? new Agent({ connect: options.connect as Connect, allowH2: http2 })
      : new ProxyAgent({
          uri: options.uri,
          requestTls: options.requestTls as NonNullable<ProxyAgent.Options['requestTls']>,
          connect: options.connect as Connect,
          allowH2: http2,
        }),
  );
}
