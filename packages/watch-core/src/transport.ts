import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './client.ts';

/** A streaming response body: chunks as they arrive, pulled (backpressure), closable. */
export interface StreamBody extends AsyncIterable<Uint8Array> {
  /** Ends the response and frees its connection; `reason` becomes the pending read's error. */
  close(reason?: Error): void;
}

/**
 * How the watcher talks to the API server. The real one is a {@link KubeClient}; tests may
 * supply another. `accept` is the `Accept` header (default `application/json`; metadata-only
 * watches ask for `PartialObjectMetadata`); a transport that ignores it serves full objects.
 */
export interface WatchTransport {
  /** GETs a JSON document (a LIST page). */
  getJson(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<unknown>;
  /** Opens a streaming GET (a watch); resolves once a 200 response has started. */
  openStream(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<StreamBody>;
}

/**
 * The transport of a client-node KubeConfig: its current cluster and user, through a
 * {@link KubeClient}. Every request asks the KubeConfig for credentials anew (token files
 * re-read, exec plugins re-run when due) and uses its TLS settings; kwatch never turns
 * verification off. Connections are shared by every watcher with the same cluster and identity,
 * over HTTP/2 when the server offers it (`http2`, default `true`).
 *
 * @example
 * ```ts
 * const transport = kubeConfigTransport(kc);
 * const page = await transport.getJson('/api/v1/pods', new URLSearchParams({ limit: '500' }), signal);
 * ```
 */
export function kubeConfigTransport(kc: KubeConfig, options: { http2?: boolean } = {}): WatchTransport {
  return new KubeClient({ kubeConfig: kc, http2: options.http2 ?? true });
}
