// ScriptedServer: a hostile HTTPS apiserver for ConfigMaps whose watches answer as scripted.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { generatePki, pemBase64 } from './certs.ts';

/**
 * How a {@link ScriptedServer} answers watch requests (plain watches and WatchList requests with
 * `sendInitialEvents=true` alike). LIST requests are always answered with the fixed list.
 *  - `healthy`: 200, then (WatchList) the items as ADDED and the `k8s.io/initial-events-end` bookmark, then
 *    nothing: the watch is held open until the client leaves or the server stops.
 *  - `closeAtOnce`: 200 and headers, then the body ends at once, without a single event.
 *  - `goneForever`: HTTP 410 with a Kubernetes Status body (reason `Expired`), every time.
 *  - `goneInStream`: 200, then one `ERROR` event holding a 410 Status, then the body ends.
 */
export type ScriptedMode = 'healthy' | 'closeAtOnce' | 'goneForever' | 'goneInStream';

/**
 * What a request was: a LIST, a watch (`watch=true`), a WatchList request (`watch=true` and
 * `sendInitialEvents=true`), or anything else (unknown path, discovery, wrong token).
 */
export type ScriptedRequestKind = 'list' | 'watch' | 'watchList' | 'other';

/** Options of {@link startScriptedServer}. */
export interface ScriptedServerOptions {
  /** How watches are answered; can be changed later with {@link ScriptedServer.mode}. Default: `'healthy'`. */
  readonly mode?: ScriptedMode;
  /** The namespace of the ConfigMaps served. Default: `'x'`. */
  readonly namespace?: string;
  /** How many ConfigMaps the fixed list holds. Default: `3`. */
  readonly items?: number;
  /**
   * Whether WatchList requests are served (per mode, as plain watches are); `false` answers them
   * 422 Invalid as a kube-apiserver with the WatchList feature gate off does, so clients LIST instead.
   * Can be changed later with {@link ScriptedServer.watchList}. Default: `true`.
   */
  readonly watchList?: boolean;
}

const KINDS: readonly ScriptedRequestKind[] = ['list', 'watch', 'watchList', 'other'];
const LIST_RESOURCE_VERSION = '100';

interface Request {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(): unknown;
  end(chunk: string): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/**
 * A scripted, hostile Kubernetes API server for one resource, ConfigMaps, over real HTTPS
 * (HTTP/2 and HTTP/1.1, a self-signed CA) on 127.0.0.1: it answers LIST requests of
 * `/api/v1/namespaces/<namespace>/configmaps` and `/api/v1/configmaps` with a small fixed list, and
 * watch requests according to a {@link ScriptedMode} — for measuring what clients do when a server
 * (or a proxy) misbehaves, e.g. how many requests a second they send. Every request is counted by
 * kind with a timestamp (`performance.now()` of this process). Clients authenticate with a bearer
 * token; {@link kubeconfigPath} is a kubeconfig that kwatch, client-node and client-go all read.
 *
 * @example
 * ```ts
 * const server = await startScriptedServer({ mode: 'closeAtOnce' });
 * const watcher = new Watcher(ConfigMap, { namespace: server.namespace, kubeConfig: server.kubeConfig() });
 * // ... or a child process with KUBECONFIG=server.kubeconfigPath
 * console.log(server.counts()); // { list: 1, watch: 14000, watchList: 1, other: 0 }
 * server.mode = 'healthy';
 * await server.stop(); // no socket, no file left
 * ```
 */
export class ScriptedServer {
  /** How watches are answered from now on (requests already answered are not affected). */
  mode: ScriptedMode;
  /** Whether WatchList requests are served from now on (else 422, as with the WatchList feature gate off). */
  watchList: boolean;
  /** The namespace of the ConfigMaps served. */
  readonly namespace: string;
  /** A kubeconfig (JSON, mode 0600): this server, its CA, a bearer token. Removed by {@link stop}. */
  readonly kubeconfigPath: string;
  readonly #server: Http2SecureServer;
  readonly #dir: string;
  readonly #token: string;
  readonly #items: readonly Record<string, unknown>[];
  readonly #times: Record<ScriptedRequestKind, number[]> = { list: [], watch: [], watchList: [], other: [] };
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #held = new Set<Response>();
  #stopped: Promise<void> | undefined;

  /** Use {@link startScriptedServer}. */
  constructor(server: Http2SecureServer, dir: string, token: string, options: ScriptedServerOptions) {
    this.#server = server;
    this.#dir = dir;
    this.#token = token;
    this.mode = options.mode ?? 'healthy';
    this.watchList = options.watchList ?? true;
    this.namespace = options.namespace ?? 'x';
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.#items = Array.from({ length: options.items ?? 3 }, (_, i) => ({
      metadata: {
        name: `cm-${i}`,
        namespace: this.namespace,
        uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        resourceVersion: String(i + 1),
        creationTimestamp: '2026-01-01T00:00:00Z',
      },
      data: { key: `value-${i}` },
    }));
    server.on('secureConnection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
  }

  /** `https://127.0.0.1:<port>`. */
  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A client-node KubeConfig for this server (what {@link kubeconfigPath} holds). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  /** Requests received since the start or the last {@link reset}, by kind. */
  counts(): Record<ScriptedRequestKind, number> {
    return {
      list: this.#times.list.length,
      watch: this.#times.watch.length,
      watchList: this.#times.watchList.length,
      other: this.#times.other.length,
    };
  }

  /** When each request of `kind` (default: every kind, merged and sorted) arrived, in `performance.now()` ms. */
  timestamps(kind?: ScriptedRequestKind): number[] {
    if (kind) return [...this.#times[kind]];
    return KINDS.flatMap((k) => this.#times[k]).sort((a, b) => a - b);
  }

  /** Forgets the requests counted so far. */
  reset(): void {
    for (const k of KINDS) this.#times[k].length = 0;
  }

  /** Ends every open watch and connection, closes the server and removes its certificates and kubeconfig. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const res of this.#held) res.end();
      this.#held.clear();
      for (const session of this.#sessions) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
      await closed;
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }

  /** @internal */
  handle(req: Request, res: Response): void {
    const at = performance.now();
    const url = new URL(req.url ?? '/', 'https://scripted');
    const q = url.searchParams;
    const resource = url.pathname === '/api/v1/configmaps' || url.pathname === `/api/v1/namespaces/${this.namespace}/configmaps`;
    if (req.headers.authorization !== `Bearer ${this.#token}`) {
      this.#times.other.push(at);
      this.#status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (!resource || (req.method ?? 'GET') !== 'GET') {
      this.#times.other.push(at);
      this.#status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      return;
    }
    if (q.get('watch') !== 'true' && q.get('watch') !== '1') {
      this.#times.list.push(at);
      const body = {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: LIST_RESOURCE_VERSION },
        items: this.#items,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    const watchList = q.get('sendInitialEvents') === 'true';
    this.#times[watchList ? 'watchList' : 'watch'].push(at);
    if (watchList && !this.watchList) {
      const message =
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled';
      this.#status(res, 422, 'Invalid', message);
      return;
    }
    const mode = this.mode;
    if (mode === 'goneForever') {
      this.#status(res, 410, 'Expired', this.#expiredMessage(q));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    if (mode === 'closeAtOnce') {
      res.end();
      return;
    }
    if (mode === 'goneInStream') {
      res.end(`${JSON.stringify({ type: 'ERROR', object: this.#statusBody(410, 'Expired', this.#expiredMessage(q)) })}\n`);
      return;
    }
    // healthy
    if (watchList) {
      const lines = this.#items.map((item) =>
        JSON.stringify({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', ...item } }),
      );
      const end = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { resourceVersion: LIST_RESOURCE_VERSION, annotations: { 'k8s.io/initial-events-end': 'true' } },
      };
      lines.push(JSON.stringify({ type: 'BOOKMARK', object: end }));
      res.write(`${lines.join('\n')}\n`);
    }
    this.#held.add(res);
    res.on('close', () => this.#held.delete(res));
  }

  #expiredMessage(q: URLSearchParams): string {
    return `too old resource version: ${q.get('resourceVersion') || '0'} (${LIST_RESOURCE_VERSION})`;
  }

  #statusBody(code: number, reason: string, message: string): object {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  }

  #status(res: Response, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.#statusBody(code, reason, message)));
  }
}

/**
 * Starts a {@link ScriptedServer} on a free port of 127.0.0.1, with a fresh self-signed CA and
 * serving certificate (openssl, as the control plane's) and a random bearer token, and writes its
 * kubeconfig. Stop it with {@link ScriptedServer.stop}.
 *
 * @example
 * ```ts
 * const server = await startScriptedServer({ mode: 'goneForever', namespace: 'x' });
 * spawn(peer, { env: { ...process.env, KUBECONFIG: server.kubeconfigPath } });
 * ```
 */
export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kwatch-scripted-'));
  let scripted: ScriptedServer | undefined;
  try {
    const pki = await generatePki(dir, []);
    const token = randomBytes(24).toString('hex');
    const server = createSecureServer(
      { cert: readFileSync(pki.serving.certFile), key: readFileSync(pki.serving.keyFile), allowHTTP1: true },
      (req, res) => scripted?.handle(req, res),
    );
    scripted = new ScriptedServer(server, dir, token, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const cluster = 'kwatch-scripted';
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: cluster, cluster: { server: scripted.url, 'certificate-authority-data': await pemBase64(pki.ca.certFile) } },
      ],
      users: [{ name: 'scripted', user: { token } }],
      contexts: [{ name: cluster, context: { cluster, user: 'scripted', namespace: scripted.namespace } }],
      'current-context': cluster,
      preferences: {},
    };
    await writeFile(scripted.kubeconfigPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    return scripted;
  } catch (err) {
    if (scripted) await scripted.stop();
    else await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
