// Credentials and connections from a client-node KubeConfig, asked anew for every request.
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { KwatchError } from '../internal/index.ts';
import type { Credentials, Prepared } from './credentials.ts';
import type { Endpoint } from './endpoint.ts';

/** What client-node's `applyOptions` (or `applyToHTTPSOptions`) fills in: TLS material and headers. */
type Applied = RequestOptions & { headers?: Record<string, string | string[] | number | undefined> };

const asBuffer = (v: unknown): Buffer | undefined =>
  v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : undefined;

/**
 * The options client-node applies to a request for its current user and cluster: its TLS settings and its
 * authentication headers (tokens, token files, exec plugins and auth-provider plugins, all run by client-node).
 * `applyOptions` where the client-node has it (no agent made); else `applyToHTTPSOptions`.
 */
async function applied(kc: KubeConfig): Promise<Applied> {
  const opts: Applied = {};
  const apply = (kc as unknown as { applyOptions?: (o: Applied) => Promise<void> }).applyOptions;
  if (typeof apply === 'function') await apply.call(kc, opts);
  else await kc.applyToHTTPSOptions(opts);
  return opts;
}

/**
 * Credentials from a client-node `KubeConfig` (one the user passed, or one made for an auth-provider plugin): its
 * current cluster and user, asked anew for every request, so that client-node's token refresh, token files and exec
 * plugins keep working. What client-node applies (CA, client certificate, `tls-server-name`, headers) goes through
 * kwatch's own connections, with their HTTP/2 health check, directly or through an HTTP(S) proxy's CONNECT tunnel.
 * A PFX certificate and SOCKS proxies stay on client-node's undici dispatcher, whose watches are kept short and
 * read-idle checked instead (readIdle.ts). client-node is loaded here only when such a KubeConfig exists.
 *
 * @example
 * ```ts
 * const prepared = await clientNodeCredentials(kc).prepare(true); // { server, headers, endpoint }
 * ```
 */
export function clientNodeCredentials(kc: KubeConfig): Credentials {
  return {
    async prepare(http2: boolean): Promise<Prepared> {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new KwatchError('INVALID_OPTION', 'The kubeConfig has no current cluster (set a current-context)');
      const server = cluster.server.replace(/\/+$/, '');
      if (server.startsWith('http:') && !cluster.skipTLSVerify) {
        // client-node's own rule for its KubeConfigs, kept: plain HTTP only where TLS verification is off anyway.
        throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
      }
      const socks = cluster.proxyUrl?.startsWith('socks') === true;
      const opts = await applied(kc);
      if (!socks && opts.pfx === undefined && opts.passphrase === undefined) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        const user = kc.getCurrentUser();
        if (user?.username)
          headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
        const endpoint: Endpoint = {
          server,
          ca: asBuffer(opts.ca),
          cert: asBuffer(opts.cert),
          key: asBuffer(opts.key),
          servername: opts.servername ?? undefined,
          rejectUnauthorized: opts.rejectUnauthorized === false ? false : undefined,
          proxyUrl: cluster.proxyUrl,
        };
        return { server, headers, endpoint };
      }
      if (typeof kc.createDispatcherOptions === 'function') {
        const https: RequestOptions = {};
        await kc.applyToHTTPSOptions(https);
        const { sharedDispatcher } = await import('./connections.ts'); // undici: loaded with client-node only
        const shared = sharedDispatcher(kc, cluster, https as Record<string, unknown>, http2);
        if (shared !== 'unsupported') {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(https.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          if (https.auth) headers.Authorization = `Basic ${Buffer.from(https.auth).toString('base64')}`;
          return { server, headers, dispatcher: shared };
        }
      }
      const { HttpMethod, RequestContext } = await import('@kubernetes/client-node');
      const ctx = new RequestContext(server, HttpMethod.GET);
      await kc.applySecurityAuthentication(ctx);
      return { server, headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() as Dispatcher | undefined };
    },
    // client-node re-reads token files and re-runs expired exec plugins itself; asking again may help.
    refresh: () => true,
  };
}
