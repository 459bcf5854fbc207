// The request core: one KubeClient sends every watch, LIST page and write, with typed errors.
import type { KubeConfig } from '@kubernetes/client-node';
import { isStatus, type Status } from '@kwatch/models';
import type { Dispatcher } from 'undici';
import { apiErrorFrom, ConfigError, KwatchError, TransportError } from '../internal/index.ts';
import { clientNodeCredentials } from './clientNodeCredentials.ts';
import type { Credentials, Prepared } from './credentials.ts';
import { withEnvironmentProxy } from './envProxy.ts';
import { defaultCredentials, type Kubeconfig, kubeconfigCredentials } from './kubeconfigCredentials.ts';
import type { Http2Health, Response } from './nativeHttp.ts';
import { send } from './nativeHttp.ts';
import { type KubeClientOptions, resolveKubeClientOptions } from './options.ts';
import { isTunnelProxy } from './proxyTunnel.ts';
import { clampWatch, guardReadIdle } from './readIdle.ts';
import type { StreamBody, WatchTransport } from './transport.ts';

/** The HTTP methods of the Kubernetes API. */
export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request of {@link KubeClient.request} or {@link KubeClient.stream}. */
export interface KubeRequest {
  /** Default: `'GET'`. */
  readonly method?: KubeMethod;
  /** The path below the server, e.g. `/apis/coordination.k8s.io/v1/namespaces/web/leases/x`. */
  readonly path: string;
  /** The query string. Default: none. */
  readonly query?: URLSearchParams;
  /** A JSON body, serialised with `JSON.stringify`. Default: none. */
  readonly body?: unknown;
  /** The body's type. Default: `application/json`; for PATCH `application/merge-patch+json`. */
  readonly contentType?: string;
  /** The `Accept` header. Default: `application/json`. */
  readonly accept?: string;
  /** Required: aborting it ends the request at once (also while connecting) and rejects with its reason. */
  readonly signal: AbortSignal;
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
const HEADERS_TIMEOUT_MS = 60_000;
const USER_AGENT = 'kwatch/0.1';

/**
 * The one Kubernetes request core: every watch, LIST page and write (leases, …) goes through
 * it, with the shared connections (HTTP/2 by default), credentials asked anew per request
 * (token files re-read when they change, exec plugins re-run on expiry or after a 401, then
 * the request repeated once), and a typed error for every failure:
 *
 * - the server refused (any non-2xx): an `ApiError` (`GoneError` for 410) with the server's
 *   `Status`, `httpStatus` and `retryAfterMs`; a 409 Conflict is `HTTP_ERROR` with `httpStatus` 409;
 * - no response, a cut, unreadable body: a `TransportError` (`TLS_ERROR` when verification failed);
 * - the kubeconfig could not be read or give credentials: a `ConfigError`;
 * - `signal` aborted: rejects with the signal's reason, at once.
 *
 * Messages name the method and path, never a header or credential. A `KubeClient` is also a
 * `WatchTransport`: `new Watcher(Pod, { transport: client })` shares its credentials and connections.
 *
 * @example
 * ```ts
 * const client = new KubeClient(); // the default kubeconfig, read on the first request
 * const signal = AbortSignal.timeout(10_000);
 * const path = '/apis/coordination.k8s.io/v1/namespaces/web/leases';
 * try {
 *   const lease = await client.request<Lease>({ path: `${path}/audit`, signal });
 *   await client.request({ method: 'PUT', path: `${path}/audit`, body: { ...lease, spec }, signal });
 * } catch (e) {
 *   if (e instanceof ApiError && e.httpStatus === 404) await client.request({ method: 'POST', path, body: lease, signal });
 *   else if (e instanceof ApiError && e.httpStatus === 409) retry(); // someone else wrote it first
 *   else throw e;
 * }
 * const body = await client.stream({ path: '/api/v1/pods', query: new URLSearchParams({ watch: 'true' }), signal });
 * for await (const chunk of body) process.stdout.write(chunk);
 * ```
 */
export class KubeClient implements WatchTransport {
  readonly #source: KubeConfig | Kubeconfig | undefined;
  readonly #http2: boolean;
  readonly #health: Http2Health;
  #credentials: Credentials | undefined;

  /** Throws a `KwatchError` `INVALID_OPTION` naming an unknown or bad option (see {@link KubeClientOptions}). */
  constructor(options: KubeClientOptions = {}) {
    const o = resolveKubeClientOptions(options);
    this.#source = o.kubeConfig;
    this.#http2 = o.http2;
    this.#health = o.health;
  }

  /** The HTTP/2 health check this client's connections get (see {@link KubeClientOptions.readIdleMs}). */
  get http2Health(): Http2Health {
    return this.#health;
  }

  /**
   * Sends one request and resolves with its parsed JSON body (`undefined` when the body is
   * empty), or rejects with a typed error (see the class).
   */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const res = await this.#send(req);
    const where = `${req.method ?? 'GET'} ${req.path}`;
    try {
      const text = await readText(res.body, Number.POSITIVE_INFINITY);
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      if (req.signal.aborted) throw req.signal.reason;
      throw transportError(err, where);
    }
  }

  /**
   * Sends one request and resolves once a 2xx response has started, with its body as it
   * arrives (pulled: backpressure). No whole-request timeout: the caller watches for inactivity.
   */
  async stream(req: KubeRequest): Promise<StreamBody> {
    const res = await this.#send(req);
    const body = res.body;
    return {
      [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
      close: (reason?: Error) => {
        body.destroy(reason);
      },
    };
  }

  /** `WatchTransport`: a LIST page. */
  getJson(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<unknown> {
    return this.request({ path, query, signal, ...(accept ? { accept } : {}) });
  }

  /** `WatchTransport`: a watch. */
  openStream(path: string, query: URLSearchParams, signal: AbortSignal, accept?: string): Promise<StreamBody> {
    return this.stream({ path, query, signal, ...(accept ? { accept } : {}) });
  }

  #credentialsFor(): Credentials {
    if (!this.#credentials) {
      const source = this.#source;
      this.#credentials =
        source === undefined
          ? defaultCredentials()
          : 'getCurrentCluster' in source
            ? clientNodeCredentials(source)
            : kubeconfigCredentials(source);
    }
    return this.#credentials;
  }

  async #send(req: KubeRequest): Promise<Response> {
    const method = req.method ?? 'GET';
    const where = `${method} ${req.path}`;
    const { signal } = req;
    signal.throwIfAborted();
    const credentials = this.#credentialsFor();
    for (let attempt = 0; ; attempt++) {
      let prepared: Awaited<ReturnType<Credentials['prepare']>>;
      try {
        prepared = await orAbort(credentials.prepare(this.#http2), signal); // an exec plugin may hang
      } catch (err) {
        if (err instanceof KwatchError || signal.aborted) throw err;
        // The kubeconfig could not produce credentials or TLS settings: retrying the same config will not help.
        const why = String((err as Error)?.message ?? err)
          .split('\n')[0]
          ?.slice(0, 200);
        throw new ConfigError('CREDENTIALS_ERROR', `${where}: the kubeconfig could not prepare the request: ${why}`);
      }
      signal.throwIfAborted();
      const qs = req.query?.toString();
      const url = `${prepared.server}${req.path}${qs ? `?${qs}` : ''}`;
      const headers: Record<string, string> = {
        ...prepared.headers,
        accept: req.accept ?? 'application/json',
        'user-agent': USER_AGENT,
      };
      if (req.body !== undefined) {
        headers['content-type'] = req.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      }
      const body = req.body === undefined ? undefined : JSON.stringify(req.body);
      let res: Response;
      try {
        res = await sendVia(prepared, this.#http2, this.#health, url, { method, headers, body, signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw transportError(err, where);
      }
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const status = await readStatus(res.body);
      if (res.statusCode === 401 && attempt === 0 && credentials.refresh()) continue; // rotated credentials: once
      const retryAfter = res.headers['retry-after'];
      throw apiErrorFrom(res.statusCode, status, where, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
  }
}

/** Turns a failure to get any response into a kwatch error (never quoting headers). */
function transportError(err: unknown, where: string): Error {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (err instanceof KwatchError) return err;
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
 * Settles with `pending`, or rejects at once when `signal` aborts. undici does not abort a
 * request while its TLS connection is being set up (it waits for its connect timeout), so
 * the caller does not wait for it: a response that still arrives is closed.
 */
function abortable<R extends { body: { destroy(): void } }>(pending: Promise<R>, signal: AbortSignal): Promise<R> {
  const discard = (): void => {
    pending.then(
      (r) => r.body.destroy(),
      () => {},
    );
  };
  if (signal.aborted) {
    discard();
    return Promise.reject(signal.reason);
  }
  return new Promise<R>((resolve, reject) => {
    const onAbort = (): void => {
      discard();
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

/** `pending`, or the signal's reason as soon as it aborts (`pending` is left to settle on its own). */
function orAbort<R>(pending: Promise<R>, signal: AbortSignal): Promise<R> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<R>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A response body as text, at most `limit` bytes (more is cut off); the body is destroyed after. Bodies are read by
 * their events (eventBody.ts), so an HTTP/2 body that ended cleanly is never taken for a premature close.
 */
async function readText(body: Response['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
      size += c.byteLength;
      if (size > limit) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readStatus(body: Response['body']): Promise<Status | undefined> {
  try {
    const status: unknown = JSON.parse(await readText(body, MAX_ERROR_BODY));
    return isStatus(status) ? status : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends over kwatch's own connections (Node's http2/https: no HTTP library loaded), or through
 * undici for a client-node KubeConfig's dispatcher and for proxies (loaded then only).
 */
async function sendVia(
  prepared: Prepared,
  http2: boolean,
  health: Http2Health,
  url: string,
  o: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
): Promise<Response> {
  // No proxy-url in the kubeconfig: the one HTTPS_PROXY / HTTP_PROXY name unless NO_PROXY exempts the server (kubectl's rule).
  const endpoint = withEnvironmentProxy(prepared.endpoint);
  if (endpoint && (!endpoint.proxyUrl || (isTunnelProxy(endpoint.proxyUrl) && endpoint.server.startsWith('https:')))) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers)) headers[k.toLowerCase()] = v;
    return send(
      endpoint,
      http2,
      { ...o, headers, path: url.slice(prepared.server.length), headersTimeoutMs: HEADERS_TIMEOUT_MS },
      health,
    );
  }
  const [{ request }, dispatcher] = await Promise.all([
    import('undici'),
    endpoint ? import('./connections.ts').then((m) => m.dispatcherFor(endpoint, http2)) : prepared.dispatcher,
  ]);
  // undici's connections are never PINGed: a watch is asked to end within readIdleMs, and a pull that waits longer
  // than readIdleMs + pingTimeoutMs for a byte means a dead connection (45 s with client-go's values).
  const path = url.slice(prepared.server.length);
  const res = await abortable(
    request(`${prepared.server}${clampWatch(path, health)}`, {
      method: o.method as Dispatcher.HttpMethod,
      headers: o.headers,
      ...(o.body === undefined ? {} : { body: o.body }),
      signal: o.signal,
      bodyTimeout: 0, // a watch's own inactivity watchdog replaces it
      headersTimeout: HEADERS_TIMEOUT_MS,
      ...(dispatcher ? { dispatcher } : {}),
    }),
    o.signal,
  );
  return { ...res, body: guardReadIdle(res.body, health, new URL(url).origin) };
}
