// kwatch's own HTTP/2 and HTTP/1.1 connections (Node's http2/https), shared and health-checked.
import { createHash } from 'node:crypto';
import type * as Http from 'node:http';
import type * as Http2 from 'node:http2';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import type * as Net from 'node:net';
import type * as Tls from 'node:tls';
import { DEFAULTS, TransportError } from '../internal/index.ts';
import type { Endpoint } from './endpoint.ts';
import { readByEvents } from './eventBody.ts';
import { isTunnelProxy, openTunnel } from './proxyTunnel.ts';
import { clampWatch, guardReadIdle } from './readIdle.ts';

// The CommonJS modules, not their ES module namespaces: building `node:http`'s namespace reads its lazy
// WebSocket/EventSource getters, which load Node's internal undici (~13 MB, ~30 ms) for nothing.
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;
const http2 = require('node:http2') as typeof Http2;
const https = require('node:https') as typeof Https;
const { isIP } = require('node:net') as typeof Net;
const tls = require('node:tls') as typeof Tls;

/**
 * A response whose headers arrived; `body` is pulled (backpressure) and must be consumed or destroyed. Every body is
 * read by its events ({@link readByEvents}): each pull hands out what arrived since the last.
 */
export interface Response {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: AsyncIterable<Uint8Array> & { destroy(error?: Error): void };
}

/** One request to send. */
export interface Outgoing {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly signal: AbortSignal;
  /** Until the response headers arrive; the body has no timeout (a watch's watchdog covers it). */
  readonly headersTimeoutMs: number;
}

/** Streams per HTTP/2 connection before another is opened (undici's default too). */
const MAX_STREAMS = 100;
/** An HTTP/2 connection without streams for this long is closed. */
const IDLE_MS = 60_000;
/** At most this many endpoints keep connections; the least recently used one is closed gracefully. */
const MAX_POOLS = 32;

/**
 * client-go's HTTP/2 health check (its `ReadIdleTimeout` and `PingTimeout`): a connection that has read nothing
 * for `readIdleMs` is sent a PING; one that does not answer within `pingTimeoutMs` is destroyed, failing every
 * stream on it at once with a retryable `TransportError` `STALLED` (each watcher then reconnects on a new connection
 * and resumes where it was).
 */
export interface Http2Health {
  /** Quiet time (nothing read) before a PING. client-go's default: 30 s (`DEFAULTS.client.readIdleMs`). */
  readonly readIdleMs: number;
  /** Time the PING has to be answered before the connection is destroyed. client-go's default: 15 s. */
  readonly pingTimeoutMs: number;
}

/**
 * client-go's values: a half-open connection is found at most 45 s after its last read.
 *
 * @deprecated `DEFAULTS.client.readIdleMs` and `DEFAULTS.client.pingTimeoutMs`, where every default is.
 */
export const HTTP2_HEALTH_DEFAULTS: Http2Health = Object.freeze({
  readIdleMs: DEFAULTS.client.readIdleMs,
  pingTimeoutMs: DEFAULTS.client.pingTimeoutMs,
});

interface Session {
  readonly h2: Http2.ClientHttp2Session;
  active: number;
  /** Closes the session `IDLE_MS` after its last stream ended (armed only while it has none). */
  idle: NodeJS.Timeout | undefined;
}

interface Pool {
  readonly endpoint: Endpoint;
  readonly http2: boolean;
  readonly health: Http2Health;
  readonly sessions: Set<Session>;
  /** The server did not offer h2 (or `http2: false`): HTTP/1.1 over a keep-alive agent. */
  agent: Http.Agent | undefined;
  /** A connection being opened, so that a burst of requests shares it instead of opening one each. */
  connecting: Promise<Session | undefined> | undefined;
}

const pools = new Map<string, Pool>();

function poolKey(e: Endpoint, useHttp2: boolean, health: Http2Health): string {
  const h = createHash('sha256');
  const parts = [
    e.server,
    useHttp2,
    e.ca,
    e.cert,
    e.key,
    e.servername,
    e.rejectUnauthorized,
    e.proxyUrl,
    health.readIdleMs,
    health.pingTimeoutMs,
  ];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) h.update(part);
    else h.update(JSON.stringify(part ?? null));
    h.update('\0');
  }
  return h.digest('hex');
}

function poolFor(endpoint: Endpoint, useHttp2: boolean, health: Http2Health): Pool {
  const key = poolKey(endpoint, useHttp2, health);
  let pool = pools.get(key);
  if (pool) {
    pools.delete(key); // re-insert: most recently used last
    pools.set(key, pool);
    return pool;
  }
  pool = { endpoint, http2: useHttp2, health, sessions: new Set(), agent: undefined, connecting: undefined };
  pools.set(key, pool);
  if (pools.size > MAX_POOLS) {
    const [oldestKey, oldest] = pools.entries().next().value as [string, Pool];
    pools.delete(oldestKey);
    for (const s of oldest.sessions) s.h2.close(); // graceful: running streams finish first
    oldest.agent?.destroy();
  }
  return pool;
}

function tlsOptions(e: Endpoint, url: URL): Tls.ConnectionOptions {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const servername = e.servername ?? (isIP(host) ? undefined : host);
  return {
    host,
    port: Number(url.port || 443),
    ...(servername ? { servername } : {}),
    ...(e.ca ? { ca: e.ca } : {}),
    ...(e.cert ? { cert: e.cert } : {}),
    ...(e.key ? { key: e.key } : {}),
    ...(e.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    // Verification against `servername` when given (tls-server-name), else the URL's host.
    ...(e.servername ? { checkServerIdentity: (_: string, cert) => tls.checkServerIdentity(e.servername as string, cert) } : {}),
  };
}

/** How long a proxy has to answer a CONNECT. */
const TUNNEL_TIMEOUT_MS = 30_000;

/** The tunnel to the endpoint's server through its proxy (HTTP CONNECT), or `undefined` to connect directly. */
function tunnelFor(endpoint: Endpoint, url: URL, signal: AbortSignal): Promise<Net.Socket> | undefined {
  if (!isTunnelProxy(endpoint.proxyUrl)) return undefined;
  return openTunnel(endpoint.proxyUrl, url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 443), signal, TUNNEL_TIMEOUT_MS);
}

/**
 * Opens a TLS connection offering h2 and http/1.1 (through the endpoint's proxy when it has one: TLS and HTTP/2 run
 * end to end over the tunnel, so the health check covers proxied connections too); an HTTP/2 session if the server
 * chose h2, else `undefined`.
 */
async function connect(pool: Pool, signal: AbortSignal): Promise<Session | undefined> {
  const url = new URL(pool.endpoint.server);
  const tunnel = await tunnelFor(pool.endpoint, url, signal);
  if (signal.aborted) {
    // Aborted while the tunnel was opening: no TLS handshake over it.
    tunnel?.destroy();
    throw signal.reason;
  }
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...tlsOptions(pool.endpoint, url),
      ...(tunnel ? { socket: tunnel } : {}),
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        resolve(undefined);
        return;
      }
      const h2 = http2.connect(url.origin, { createConnection: () => socket });
      const session: Session = { h2, active: 0, idle: undefined };
      const forget = (): void => {
        pool.sessions.delete(session);
      };
      h2.on('error', forget); // its streams fail with it
      h2.on('goaway', forget);
      h2.on('close', forget);
      // Not h2.setTimeout: Node refreshes that timer on every frame read (a timer list insert per chunk of a watch).
      h2.once('close', () => clearTimeout(session.idle));
      h2.unref(); // referenced only while a stream is open
      checkHealth(h2, socket, pool.health, url.origin);
      pool.sessions.add(session);
      resolve(session);
    });
  });
}

/**
 * Watches what `socket` reads (every frame, whatever its stream) every `readIdleMs / 10` (at most 1 s): after
 * `readIdleMs` without a byte (up to one check early, never late) it sends a PING, and destroys `h2` if the PING is
 * not answered within `pingTimeoutMs`. Its timers never hold the process open and end when the session closes.
 */
function checkHealth(h2: Http2.ClientHttp2Session, socket: Tls.TLSSocket, health: Http2Health, origin: string): void {
  const step = Math.min(1000, Math.max(10, Math.floor(health.readIdleMs / 10)));
  let bytesRead = socket.bytesRead;
  let quietSteps = 0; // checks in a row that found nothing new read
  let deadline: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearInterval(timer);
    clearTimeout(deadline);
    deadline = undefined;
  };
  const timer = setInterval(() => {
    if (h2.closed || h2.destroyed) return stop();
    const now = socket.bytesRead;
    if (now !== bytesRead) {
      bytesRead = now;
      quietSteps = 0;
      return;
    }
    quietSteps += 1;
    // The last read was after the check `quietSteps` ago: more than `quietSteps * step` ms ago.
    if ((quietSteps + 1) * step < health.readIdleMs || deadline) return;
    deadline = setTimeout(() => {
      stop();
      const err = new TransportError(
        'STALLED',
        `HTTP/2 connection to ${origin}: nothing read for ${health.readIdleMs} ms and no answer to a PING within ${health.pingTimeoutMs} ms; its requests fail and reconnect`,
      );
      h2.destroy(err);
    }, health.pingTimeoutMs);
    deadline.unref();
    const answered = (err: Error | null): void => {
      if (err) return; // the session is closing: its 'close' stops the timers
      clearTimeout(deadline);
      deadline = undefined;
      quietSteps = 0;
    };
    try {
      if (!h2.ping(answered)) return; // too many PINGs unanswered: the deadline stands
    } catch {
      // closed meanwhile
    }
  }, step);
  timer.unref();
  h2.once('close', stop);
}

function capacity(s: Session): number {
  const remote = s.h2.remoteSettings?.maxConcurrentStreams ?? MAX_STREAMS;
  return Math.min(remote, MAX_STREAMS) - s.active;
}

/** An HTTP/2 session with one stream reserved for the caller, opening one if needed; `undefined`: use HTTP/1.1. */
async function sessionFor(pool: Pool, signal: AbortSignal): Promise<Session | undefined> {
  for (;;) {
    if (pool.agent) return undefined;
    for (const s of pool.sessions) if (!s.h2.closed && !s.h2.destroyed && capacity(s) > 0) return reserve(s);
    if (pool.connecting) {
      await pool.connecting.catch(() => undefined);
      signal.throwIfAborted();
      continue;
    }
    pool.connecting = connect(pool, signal).finally(() => {
      pool.connecting = undefined;
    });
    const session = await pool.connecting;
    if (!session) {
      pool.agent = agentFor(pool);
      return undefined;
    }
    if (capacity(session) > 0) return reserve(session);
  }
}

/** Takes one stream of `s`'s capacity at once (before any await), so a burst never overfills a connection. */
function reserve(s: Session): Session {
  if (s.active++ === 0) {
    s.h2.ref();
    clearTimeout(s.idle);
    s.idle = undefined;
  }
  return s;
}

function release(s: Session): void {
  if (--s.active === 0) {
    s.h2.unref();
    s.idle = setTimeout(() => {
      if (s.active === 0) s.h2.close();
    }, IDLE_MS);
    s.idle.unref();
  }
}

function agentFor(pool: Pool): Http.Agent {
  const url = new URL(pool.endpoint.server);
  if (url.protocol === 'http:') return new http.Agent({ keepAlive: true });
  const { host: _, port: __, ...options } = tlsOptions(pool.endpoint, url);
  const agent = new https.Agent({ keepAlive: true, ...options });
  if (isTunnelProxy(pool.endpoint.proxyUrl)) {
    // Each new connection through the proxy's tunnel; Node's agent takes a connection given by callback.
    const endpoint = pool.endpoint;
    const viaTunnel = (options: Tls.ConnectionOptions, done: (err: Error | null, socket?: Net.Socket) => void): undefined => {
      (tunnelFor(endpoint, url, AbortSignal.timeout(TUNNEL_TIMEOUT_MS)) as Promise<Net.Socket>).then(
        (socket) => done(null, tls.connect({ ...options, socket })),
        (err: Error) => done(err),
      );
      return undefined;
    };
    (agent as unknown as { createConnection: typeof viaTunnel }).createConnection = viaTunnel;
  }
  return agent;
}

/** Rejects when the headers have not arrived within `ms`, or `signal` aborts; `cancel` ends the request then. */
function guard(o: Outgoing, cancel: (err: Error) => void, reject: (err: unknown) => void): () => void {
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`no response headers within ${o.headersTimeoutMs} ms`), { code: 'HEADERS_TIMEOUT' });
    cancel(err);
    reject(err);
  }, o.headersTimeoutMs);
  const onAbort = (): void => {
    cancel(o.signal.reason as Error);
    reject(o.signal.reason);
  };
  o.signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
  };
}

function viaHttp2(session: Session, url: URL, o: Outgoing): Promise<Response> {
  return new Promise((resolve, reject) => {
    let stream: Http2.ClientHttp2Stream;
    try {
      stream = session.h2.request(
        { ':method': o.method, ':path': `${url.pathname}${url.search}`, ':authority': url.host, ...o.headers },
        { endStream: o.body === undefined },
      );
    } catch (err) {
      release(session); // the session closed meanwhile
      reject(err);
      return;
    }
    // Aborting the signal also ends a body being read.
    const onAbort = (): void => {
      stream.destroy(o.signal.reason as Error);
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => {
      o.signal.removeEventListener('abort', onAbort);
      release(session);
    });
    const done = guard(o, (err) => stream.destroy(err), reject);
    stream.once('error', (err) => {
      done();
      reject(err);
    });
    stream.once('response', (headers) => {
      done();
      const { ':status': status, ...rest } = headers;
      // Read by its events (eventBody.ts): a clean end told from a cut by whether it ended, not by event order.
      resolve({ statusCode: Number(status), headers: rest as Response['headers'], body: readByEvents(stream) });
    });
    if (o.body !== undefined) stream.end(o.body);
  });
}

function viaHttp1(agent: Http.Agent, url: URL, o: Outgoing, health: Http2Health): Promise<Response> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'http:' ? http.request : https.request;
    const req = send(url, { method: o.method, headers: o.headers, agent, signal: o.signal });
    const done = guard(o, (err) => req.destroy(err), reject);
    req.once('error', (err) => {
      done();
      reject(err);
    });
    req.once('response', (res) => {
      done();
      // No PING on HTTP/1.1: a watch here is asked to end within readIdleMs (see send), and a pull that waits longer
      // than readIdleMs + pingTimeoutMs for a byte means a dead connection.
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: guardReadIdle(res, health, url.origin) });
    });
    req.end(o.body);
  });
}

/**
 * Sends one request over the shared connections of `endpoint` with Node's own http2/https
 * (no HTTP library to load): HTTP/2 when `useHttp2` and the server offers h2 (up to 100 streams
 * per connection, more connections beyond), HTTP/1.1 keep-alive otherwise, through the endpoint's HTTP(S) proxy
 * when it names one (a CONNECT tunnel; TLS and HTTP/2 end to end). Resolves when the
 * response headers arrive. Connections hold the process open only while a request runs. An HTTP/2
 * connection is health-checked as client-go's are (`health`, default `DEFAULTS.client`'s):
 * PINGed after `readIdleMs` without a read, destroyed (every stream failing `STALLED`) when the
 * PING goes unanswered for `pingTimeoutMs`. On HTTP/1.1 (no PING) a watch is asked to end within `readIdleMs`
 * and a response that reads nothing for `readIdleMs + pingTimeoutMs` fails `STALLED`: 45 s either way.
 *
 * @example
 * ```ts
 * const res = await send(endpoint, true, { method: 'GET', path: '/api', headers: {}, body: undefined, signal, headersTimeoutMs: 60_000 });
 * ```
 */
export async function send(
  endpoint: Endpoint,
  useHttp2: boolean,
  o: Outgoing,
  health: Http2Health = HTTP2_HEALTH_DEFAULTS,
): Promise<Response> {
  o.signal.throwIfAborted();
  const url = new URL(`${endpoint.server}${o.path}`); // the server's own path (if any) kept
  const pool = poolFor(endpoint, useHttp2 && url.protocol === 'https:', health);
  if (!pool.http2) pool.agent ??= agentFor(pool);
  const session = await sessionFor(pool, o.signal);
  if (session) return viaHttp2(session, url, o);
  const clamped = new URL(`${endpoint.server}${clampWatch(o.path, health)}`);
  return viaHttp1(pool.agent as Http.Agent, clamped, o, health);
}
