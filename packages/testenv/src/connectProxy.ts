// An HTTP CONNECT proxy on loopback, as corporate proxies are: tunnels to any host, optionally behind Basic auth.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

/** Options of {@link startConnectProxy}. */
export interface ConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic` with this user and password (else 407). Default: no authentication. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Tunnel every CONNECT to this `host:port` instead of the one asked (e.g. a TcpFaultProxy). Default: the one asked. */
  readonly redirectTo?: string;
}

/**
 * A running CONNECT proxy: where it listens, what it was asked, and its tunnels.
 *
 * @example
 * ```ts
 * const proxy = await startConnectProxy({ auth: { user: 'u', password: 'p' } });
 * proxy.urlWithAuth; // 'http://u:p@127.0.0.1:<port>' for a kubeconfig's proxy-url
 * await proxy.stop();
 * ```
 */
export class ConnectProxy {
  readonly #server: Server;
  readonly #options: ConnectProxyOptions;
  readonly #sockets = new Set<Socket>();
  /** The `host:port` of every CONNECT received, in order. */
  readonly connects: string[] = [];
  /** CONNECTs refused for missing or wrong credentials. */
  refused = 0;

  /** Use {@link startConnectProxy}. */
  constructor(server: Server, options: ConnectProxyOptions) {
    this.#server = server;
    this.#options = options;
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => this.#tunnel(req, client, head));
    server.on('request', (_req, res) => {
      res.writeHead(405).end('CONNECT only');
    });
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The URL with the configured credentials in it, as a kubeconfig's `proxy-url` carries them. */
  get urlWithAuth(): string {
    const a = this.#options.auth;
    if (!a) return this.url;
    return `http://${encodeURIComponent(a.user)}:${encodeURIComponent(a.password)}@127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Tunnels open now. */
  get openTunnels(): number {
    return this.#sockets.size / 2;
  }

  #tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const target = req.url ?? '';
    this.connects.push(target);
    const auth = this.#options.auth;
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
      if (req.headers['proxy-authorization'] !== expected) {
        this.refused += 1;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
        return;
      }
    }
    const to = this.#options.redirectTo ?? target;
    const at = to.lastIndexOf(':');
    const upstream = connect(Number(to.slice(at + 1)), to.slice(0, at).replace(/^\[|\]$/g, ''));
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  /** Closes every tunnel and stops listening. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Starts a {@link ConnectProxy} on a free loopback port.
 *
 * @example
 * ```ts
 * const proxy = await startConnectProxy({ redirectTo: new URL(relay.url).host });
 * ```
 */
export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const server = createServer();
  const proxy = new ConnectProxy(server, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return proxy;
}
