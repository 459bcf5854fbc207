import type { RequestOptions } from 'node:https';
import { type Cluster, HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { KwatchError, type Status, StatusSchema } from '@kwatch/models';
import { type Dispatcher, request } from 'undici';
import { sharedDispatcher } from './connections.ts';
import { apiErrorFrom, ConfigError, TransportError } from './errors.ts';

/** A streaming response body: chunks as they arrive, pulled (backpressure), closable. */
export interface StreamBody extends AsyncIterable<Uint8Array> {
  /** Ends the response and frees its connection; `reason` becomes the pending read's error. */
  close(reason?: Error): void;
}

/**
 * How the watcher talks to the API server. The real one authenticates every request
 * through a KubeConfig; tests may supply another.
 */
export interface WatchTransport {
  /** GETs a JSON document (a LIST page). */
  getJson(path: string, query: URLSearchParams, signal: AbortSignal): Promise<unknown>;
  /** Opens a streaming GET (a watch); resolves once a 200 response has started. */
  openStream(path: string, query: URLSearchParams, signal: AbortSignal): Promise<StreamBody>;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);
const MAX_ERROR_BODY = 64 * 1024;

/** Turns a failure to get any response into a kwatch error (never quoting headers). */
function transportError(err: unknown, where: string): Error {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'AbortError') return err as Error;
  const code = e?.code ?? e?.cause?.code;
  if (code && TLS_CODES.has(code)) {
    return new TransportError(
      'TLS_ERROR',
      `${where}: TLS verification of the API server failed (${code}); check the cluster's certificate-authority in your kubeconfig`,
    );
  }
  return new TransportError('NETWORK_ERROR', `${where}: ${code ?? e?.name ?? 'error'}: ${e?.message ?? String(err)}`);
}

/**
 * Credentials (asked for anew on every call) and the shared dispatcher for the kubeconfig's
 * current user. KubeConfigs from a client-node without `createDispatcherOptions`, and SOCKS
 * proxies, use client-node's own per-request dispatcher instead (no connection sharing).
 */
async function authenticate(
  kc: KubeConfig,
  cluster: Cluster,
  url: string,
  http2: boolean,
): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }> {
  if (typeof kc.createDispatcherOptions === 'function') {
    const https: RequestOptions = {};
    await kc.applyToHTTPSOptions(https);
    const shared = sharedDispatcher(kc, cluster, https as Record<string, unknown>, http2);
    if (shared !== 'unsupported') {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(https.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      if (https.auth) headers.Authorization = `Basic ${Buffer.from(https.auth).toString('base64')}`;
      return { headers, dispatcher: shared };
    }
  }
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() as Dispatcher | undefined };
}

/**
 * The transport of a KubeConfig: its current cluster and user. Every request asks the
 * KubeConfig for credentials anew (token files re-read, exec plugins re-run when due),
 * and uses its TLS settings; kwatch never turns verification off. Connections are shared by
 * every watcher with the same cluster and identity, over HTTP/2 when the server offers it
 * (`http2`, default `true`; `false` gives one HTTP/1.1 connection per watch).
 *
 * @example
 * ```ts
 * const transport = kubeConfigTransport(kc);
 * const page = await transport.getJson('/api/v1/pods', new URLSearchParams({ limit: '500' }), signal);
 * ```
 */
export function kubeConfigTransport(kc: KubeConfig, options: { http2?: boolean } = {}): WatchTransport {
  const http2 = options.http2 ?? true;
  async function send(path: string, query: URLSearchParams, signal: AbortSignal, accept: string) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KwatchError('INVALID_OPTION', 'The kubeConfig has no current cluster (set a current-context)');
    const qs = query.toString();
    const url = `${cluster.server.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
    const where = `GET ${path}`;
    let headers: Record<string, string>;
    let dispatcher: Dispatcher | undefined;
    try {
      ({ headers, dispatcher } = await authenticate(kc, cluster, url, http2));
    } catch (err) {
      // The kubeconfig could not produce credentials or TLS settings (an exec plugin failed, plain HTTP
      // without an explicit insecure setting, unreadable files): retrying the same config will not help.
      const why = String((err as Error)?.message ?? err)
        .split('\n')[0]
        ?.slice(0, 200);
      throw new ConfigError('CREDENTIALS_ERROR', `${where}: the kubeconfig could not prepare the request: ${why}`);
    }
    try {
      const res = await abortable(
        request(url, {
          method: 'GET',
          headers: { ...headers, accept, 'user-agent': 'kwatch/0.1' },
          signal,
          bodyTimeout: 0, // the watcher's own inactivity watchdog replaces it
          headersTimeout: 60_000,
          ...(dispatcher ? { dispatcher } : {}),
        }),
        signal,
      );
      if (res.statusCode !== 200) {
        const status = await readStatus(res.body);
        const retryAfter = res.headers['retry-after'];
        throw apiErrorFrom(res.statusCode, status, where, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      }
      return res;
    } catch (err) {
      if (err instanceof KwatchError) throw err;
      throw transportError(err, where);
    }
  }

  return {
    async getJson(path, query, signal) {
      const res = await send(path, query, signal, 'application/json');
      try {
        return await res.body.json();
      } catch (err) {
        throw transportError(err, `GET ${path}`);
      }
    },
    async openStream(path, query, signal) {
      const res = await send(path, query, signal, 'application/json');
      const body = res.body;
      return {
        [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
        close: (reason?: Error) => {
          body.destroy(reason);
        },
      };
    },
  };
}

/**
 * Settles with `pending`, or rejects at once when `signal` aborts. undici does not abort a
 * request while its TLS connection is being set up (it waits for its connect timeout), so
 * the watcher does not wait for it: a response that still arrives is closed.
 */
function abortable<R extends { body: { destroy(): void } }>(pending: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) {
    pending.then(
      (r) => r.body.destroy(),
      () => {},
    );
    return Promise.reject(signal.reason);
  }
  return new Promise<R>((resolve, reject) => {
    const onAbort = (): void => {
      pending.then(
        (r) => r.body.destroy(),
        () => {},
      );
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

async function readStatus(body: AsyncIterable<Uint8Array> & { destroy(): void }): Promise<Status | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      chunks.push(Buffer.from(c));
      size += c.byteLength;
      if (size > MAX_ERROR_BODY) break;
    }
  } catch {
    return undefined;
  } finally {
    body.destroy();
  }
  try {
    const parsed = StatusSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
