// Faults in front of the real apiserver: an HTTPS proxy with canned failures, and a TCP relay below HTTP.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from './controlPlane.ts';

/** One canned answer the proxy gives instead of forwarding. */
export interface InjectedFailure {
  /** HTTP status, e.g. 500, 429, 410. */
  readonly status: number;
  /** Retry-After header, in seconds. Default: none. */
  readonly retryAfterSeconds?: number;
  /** Only requests whose URL contains this. Default: any request. */
  readonly match?: string;
}

interface Stream {
  readonly res: ServerResponse;
  readonly upstream: IncomingMessage;
  readonly queue: string[];
  pending: string;
  cutMidLine: boolean;
  stalled: boolean;
}

/**
 * A fault-injecting HTTPS proxy in front of the real kube-apiserver, for tests. It
 * forwards requests (authenticated by bearer token: use the `admin-token` or
 * `restricted-token` identities) and, on command, cuts watch connections (also in the
 * middle of a line), stalls them (half-open: open, silent), delays them, answers
 * 500/429/410 with a Status body and Retry-After, or corrupts the next line of every watch.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy(cp);
 * const kc = proxy.kubeConfig('admin-token');
 * proxy.failNext({ status: 429, retryAfterSeconds: 1 });
 * proxy.cut({ midLine: true });
 * await proxy.stop();
 * ```
 */
export class FaultProxy {
  readonly #server: Server;
  readonly #cp: ControlPlane;
  /** The apiserver's CA, read once (not on every forwarded request). */
  readonly #ca: Buffer;
  readonly #streams = new Set<Stream>();
  readonly #failures: InjectedFailure[] = [];
  #corruptNext = false;
  #delayMs = 0;
  /** While set: new requests whose URL contains it ('' = any) are held open, never answered (a stalled apiserver). */
  #stallMatch: string | undefined;
  readonly #held = new Set<ServerResponse>();
  /** Requests received, by path and query, for assertions. */
  readonly requests: string[] = [];

  /** Use {@link startFaultProxy}. */
  constructor(server: Server, cp: ControlPlane) {
    this.#server = server;
    this.#cp = cp;
    this.#ca = readFileSync(cp.state.tls.caFile);
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Watch connections currently open through the proxy. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** A KubeConfig that reaches the apiserver through this proxy, as the given token context. */
  kubeConfig(context: 'admin-token' | 'restricted-token' = 'admin-token'): KubeConfig {
    const kc = this.#cp.kubeConfigFor(context);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster in the control plane kubeconfig');
    const proxied = new KubeConfig();
    proxied.loadFromOptions({
      clusters: [{ ...cluster, name: 'via-proxy', server: this.url }],
      users: kc.users,
      contexts: [{ name: 'via-proxy', cluster: 'via-proxy', user: kc.getContextObject(context)?.user ?? '' }],
      currentContext: 'via-proxy',
    });
    return proxied;
  }

  /** Answers the next matching request with `failure` instead of forwarding it (queued, in order). */
  failNext(failure: InjectedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.#failures.push(failure);
  }

  /** Forgets every failure queued by {@link failNext} and not used yet. */
  clearFailures(): void {
    this.#failures.length = 0;
  }

  /** Cuts every open watch connection; with `midLine`, after sending half of the next line. */
  cut(options: { midLine?: boolean } = {}): number {
    const n = this.#streams.size;
    for (const s of this.#streams) {
      if (options.midLine) s.cutMidLine = true;
      else this.#destroy(s);
    }
    return n;
  }

  /** Stops forwarding on every open watch connection, keeping it open (a half-open connection). */
  stall(): number {
    for (const s of this.#streams) s.stalled = true;
    return this.#streams.size;
  }

  /**
   * Stalls the apiserver for new requests: from now on, every request whose URL contains `match` (default: any) is
   * accepted and then never answered — no status, no headers — until {@link resumeRequests}. Watches already open are
   * untouched (see {@link stall} for those).
   */
  stallRequests(match = ''): void {
    this.#stallMatch = match;
  }

  /** Ends {@link stallRequests}: new requests are forwarded again; the held ones are cut (as a restarted server would). */
  resumeRequests(): void {
    this.#stallMatch = undefined;
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }

  /** Requests held unanswered by {@link stallRequests} right now. */
  get heldRequests(): number {
    return this.#held.size;
  }

  /** Delays every watch line forwarded from now on by `ms` (0 turns it off): a slow network. */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Replaces the next line of each open watch with a malformed one. */
  corruptNextLine(): void {
    this.#corruptNext = true;
  }

  /** Closes every connection and the proxy. */
  async stop(): Promise<void> {
    for (const s of this.#streams) this.#destroy(s);
    this.resumeRequests();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** @internal */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.requests.push(url);
    if (this.#stallMatch !== undefined && url.includes(this.#stallMatch)) {
      this.#held.add(res);
      req.resume(); // read (and drop) the body, answer nothing
      res.on('close', () => this.#held.delete(res));
      return;
    }
    const failIndex = this.#failures.findIndex((f) => !f.match || url.includes(f.match));
    if (failIndex !== -1) {
      const [f] = this.#failures.splice(failIndex, 1);
      this.#answer(res, f as InjectedFailure);
      return;
    }
    const { state } = this.#cp;
    const target = new URL(state.server);
    const headers = { ...req.headers, host: target.host };
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        path: url,
        method: req.method,
        headers,
        ca: this.#ca,
        agent: false,
      },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        if (!url.includes('watch=true') || upstream.statusCode !== 200) {
          upstream.pipe(res);
          return;
        }
        this.#relayLines(res, upstream);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
    res.on('close', () => up.destroy());
  }

  #answer(res: ServerResponse, f: InjectedFailure): void {
    const reasons: Record<number, string> = {
      410: 'Expired',
      429: 'TooManyRequests',
      500: 'InternalError',
      503: 'ServiceUnavailable',
    };
    const reason = reasons[f.status] ?? 'Unknown';
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: `injected by the fault proxy: ${f.status} ${reason}`,
      reason,
      code: f.status,
      ...(f.retryAfterSeconds ? { details: { retryAfterSeconds: f.retryAfterSeconds } } : {}),
    });
    res.writeHead(f.status, {
      'content-type': 'application/json',
      ...(f.retryAfterSeconds ? { 'retry-after': String(f.retryAfterSeconds) } : {}),
    });
    res.end(body);
  }

  #relayLines(res: ServerResponse, upstream: IncomingMessage): void {
    const s: Stream = { res, upstream, queue: [], pending: '', cutMidLine: false, stalled: false };
    this.#streams.add(s);
    upstream.setEncoding('utf8');
    upstream.on('data', (chunk: string) => {
      const parts = (s.pending + chunk).split('\n');
      s.pending = parts.pop() ?? '';
      for (const line of parts) s.queue.push(line);
      if (this.#delayMs > 0) setTimeout(() => this.#flush(s), this.#delayMs);
      else this.#flush(s);
    });
    upstream.on('end', () => {
      this.#flush(s);
      if (!s.stalled) res.end();
    });
    upstream.on('error', () => this.#destroy(s));
    res.on('close', () => {
      this.#streams.delete(s);
      upstream.destroy();
    });
  }

  #flush(s: Stream): void {
    while (!s.stalled && s.queue.length > 0) {
      let line = s.queue.shift() as string;
      if (this.#corruptNext) {
        this.#corruptNext = false;
        line = `{"type":"MODIFIED","object":{"metadata":{"name":`;
      }
      if (s.cutMidLine) {
        s.res.write(line.slice(0, Math.max(1, Math.floor(line.length / 2))));
        this.#destroy(s);
        return;
      }
      s.res.write(`${line}\n`);
    }
  }

  #destroy(s: Stream): void {
    this.#streams.delete(s);
    s.upstream.destroy();
    s.res.destroy();
  }
}

/** Starts a {@link FaultProxy} on a free loopback port, serving with the control plane's certificate. */
export async function startFaultProxy(cp: ControlPlane): Promise<FaultProxy> {
  const dir = cp.state.dir;
  let proxy: FaultProxy | undefined;
  const server = createServer(
    { cert: readFileSync(join(dir, 'serving.crt')), key: readFileSync(join(dir, 'serving.key')) },
    (req, res) => proxy?.handle(req, res),
  );
  proxy = new FaultProxy(server, cp);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return proxy;
}

interface Relay {
  readonly client: Socket;
  readonly upstream: Socket;
  stalled: boolean;
}

/**
 * A TCP relay in front of the real kube-apiserver, for faults below HTTP: TLS (and so HTTP/2, client
 * certificates) runs end to end through it, unlike {@link FaultProxy}, which speaks HTTP/1.1 itself.
 * {@link stall} turns the connections open now half-open: they stay open and forward nothing more, either way
 * (what arrives is dropped), as behind a dead NAT entry; connections opened after are forwarded.
 *
 * @example
 * ```ts
 * const relay = await startTcpFaultProxy(cp);
 * const server = relay.url; // in place of cp.server
 * relay.stall();
 * await relay.stop();
 * ```
 */
export class TcpFaultProxy {
  readonly #server: TcpServer;
  readonly #relays = new Set<Relay>();
  /** Connections accepted so far. */
  accepted = 0;

  /** Use {@link startTcpFaultProxy}. */
  constructor(server: TcpServer, target: URL) {
    this.#server = server;
    server.on('connection', (client) => {
      this.accepted += 1;
      const upstream = connect(Number(target.port), target.hostname);
      const relay: Relay = { client, upstream, stalled: false };
      this.#relays.add(relay);
      client.on('data', (b) => relay.stalled || upstream.write(b));
      upstream.on('data', (b) => relay.stalled || client.write(b));
      const end = (): void => {
        this.#relays.delete(relay);
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on('error', end);
        s.on('close', end);
      }
    });
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Connections open through the relay right now (stalled ones included). */
  get openConnections(): number {
    return this.#relays.size;
  }

  /** Stops forwarding on every connection open now, both ways, keeping it open (half-open); returns how many. */
  stall(): number {
    for (const r of this.#relays) r.stalled = true;
    return this.#relays.size;
  }

  /** Closes every connection open now (a cut: the peers see their sockets end); returns how many. */
  cut(): number {
    const n = this.#relays.size;
    for (const r of this.#relays) {
      r.client.destroy();
      r.upstream.destroy();
    }
    return n;
  }

  /** Closes every connection and the relay. */
  async stop(): Promise<void> {
    for (const r of this.#relays) {
      r.client.destroy();
      r.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Starts a {@link TcpFaultProxy} on a free loopback port, relaying to the control plane's apiserver. */
export async function startTcpFaultProxy(cp: ControlPlane): Promise<TcpFaultProxy> {
  const server = createTcpServer();
  const relay = new TcpFaultProxy(server, new URL(cp.state.server));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return relay;
}
