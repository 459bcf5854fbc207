// The WatchTransport of a client-node KubeConfig: its cluster and user through a KubeClient.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './client.ts';
import type { WatchTransport } from './transport.ts';

/**
 * The transport of a client-node KubeConfig: its current cluster and user, through a
 * {@link KubeClient}. Every request asks the KubeConfig for credentials anew (token files
 * re-read, exec plugins re-run when due) and uses its TLS settings; kwatch never turns
 * verification off. Connections are shared by every watcher with the same cluster and identity,
 * over HTTP/2 when the server offers it (`http2`, default `DEFAULTS.client.http2`: `true`).
 *
 * @example
 * ```ts
 * const transport = kubeConfigTransport(kc);
 * const page = await transport.getJson('/api/v1/pods', new URLSearchParams({ limit: '500' }), signal);
 * ```
 */
export function kubeConfigTransport(kc: KubeConfig, options: { http2?: boolean } = {}): WatchTransport {
  return new KubeClient({ kubeConfig: kc, http2: options.http2 }); // the client applies the default
}
