// Credentials and connections from a client-node KubeConfig, asked anew for every request.
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { KwatchError } from '../internal/index.ts';
import type { Credentials, Prepared } from './credentials.ts';

/**
 * Credentials from a client-node `KubeConfig` (one the user passed, or one made for an
 * auth-provider plugin): its current cluster and user, asked anew for every request. Its
 * connections are shared like kwatch's own; a KubeConfig from a client-node without
 * `createDispatcherOptions`, and SOCKS proxies, use client-node's per-request dispatcher.
 * client-node is loaded here only when such a KubeConfig exists (its module is imported lazily).
 */
export function clientNodeCredentials(kc: KubeConfig): Credentials {
  return {
    async prepare(http2: boolean): Promise<Prepared> {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new KwatchError('INVALID_OPTION', 'The kubeConfig has no current cluster (set a current-context)');
      const server = cluster.server.replace(/\/+$/, '');
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
