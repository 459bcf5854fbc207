import { createHash } from 'node:crypto';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';

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

/**
 * The shared dispatcher for one cluster and one TLS identity (CA, client certificate, proxy):
 * every watcher and every LIST page with the same identity reuses its connections, and with
 * `http2` (the default) many watches share one HTTP/2 connection when the server offers h2
 * (kube-apiserver does), as client-go's do. A rotated client certificate is a new identity,
 * so it gets new connections; the old ones finish their requests and close.
 * Returns `undefined` when no TLS is involved (plain HTTP), to use undici's global dispatcher.
 * Keys are hashes; no credential is kept beyond what the connections themselves hold.
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
  const found = dispatchers.get(key);
  if (found) {
    dispatchers.delete(key); // re-insert: most recently used last
    dispatchers.set(key, found);
    return found;
  }
  // client-node types these with its own copy of undici's types; the values are plain TLS options.
  const dispatcher =
    options.type === 'agent'
      ? new Agent({ connect: options.connect as Connect, allowH2: http2 })
      : new ProxyAgent({
          uri: options.uri,
          requestTls: options.requestTls as NonNullable<ProxyAgent.Options['requestTls']>,
          connect: options.connect as Connect,
          allowH2: http2,
        });
  dispatchers.set(key, dispatcher);
  if (dispatchers.size > MAX_DISPATCHERS) {
    const [oldestKey, oldest] = dispatchers.entries().next().value as [string, Dispatcher];
    dispatchers.delete(oldestKey);
    void oldest.close().catch(() => {}); // graceful: running requests finish first
  }
  return dispatcher;
}
