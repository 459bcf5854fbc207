// The proxy the environment names for a server (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), by Go's rules, as kubectl.
import { BlockList, isIP } from 'node:net';
import type { Endpoint } from './endpoint.ts';

/** The environment variables read, upper case first (Go's `httpproxy.FromEnvironment`). */
type Env = Readonly<Record<string, string | undefined>>;

const first = (env: Env, ...names: string[]): string => {
  for (const name of names) {
    const v = env[name];
    if (v) return v;
  }
  return '';
};

/** One NO_PROXY entry: a domain (and its subdomains), or an IP address or range, with an optional port. */
type Bypass =
  | { readonly kind: 'all' }
  | { readonly kind: 'domain'; readonly suffix: string; readonly exact: boolean; readonly port: string }
  | { readonly kind: 'ip'; readonly list: BlockList; readonly port: string };

/** Splits `host:port` (`[v6]:port`); the port is '' when there is none. */
function splitHostPort(entry: string): [string, string] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return [v6[1] as string, v6[2] ?? ''];
  const at = entry.lastIndexOf(':');
  if (at > 0 && entry.indexOf(':') === at && /^\d+$/.test(entry.slice(at + 1))) return [entry.slice(0, at), entry.slice(at + 1)];
  return [entry, ''];
}

function ipList(address: string, prefix?: number): BlockList {
  const list = new BlockList();
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address, family);
  else list.addSubnet(address, prefix, family);
  return list;
}

/** NO_PROXY's entries, as Go's `httpproxy.Config.init` reads them. */
function parseNoProxy(value: string): Bypass[] {
  const out: Bypass[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return [{ kind: 'all' }];
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1] as string)) {
      const bits = Number(cidr[2]);
      if (bits <= (isIP(cidr[1] as string) === 6 ? 128 : 32))
        out.push({ kind: 'ip', list: ipList(cidr[1] as string, bits), port: '' });
      continue;
    }
    const [host, port] = splitHostPort(entry);
    if (host === '') continue;
    if (isIP(host)) {
      out.push({ kind: 'ip', list: ipList(host), port });
      continue;
    }
    const name = host.startsWith('*.') ? host.slice(1) : host;
    out.push(
      name.startsWith('.')
        ? { kind: 'domain', suffix: name, exact: false, port }
        : { kind: 'domain', suffix: `.${name}`, exact: true, port },
    );
  }
  return out;
}

/** Loopback addresses (IPv4 127/8, `::1`, IPv4-mapped 127/8), built on first use. */
let loopback: BlockList | undefined;

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 0) return false;
  if (!loopback) {
    loopback = new BlockList();
    loopback.addSubnet('127.0.0.0', 8, 'ipv4');
    loopback.addAddress('::1', 'ipv6');
    loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  }
  return loopback.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** Whether a request to `host:port` goes through the proxy (Go's `useProxy`). */
function useProxy(host: string, port: string, bypass: readonly Bypass[]): boolean {
  if (host === 'localhost' || isLoopback(host)) return false;
  const family = isIP(host);
  for (const b of bypass) {
    if (b.kind === 'all') return false;
    if (b.kind === 'ip') {
      if (family !== 0 && b.list.check(host, family === 6 ? 'ipv6' : 'ipv4') && (b.port === '' || b.port === port)) return false;
    } else if ((host.endsWith(b.suffix) || (b.exact && host === b.suffix.slice(1))) && (b.port === '' || b.port === port)) {
      return false;
    }
  }
  return true;
}

/** A proxy value as a URL: one without a scheme (`proxy:3128`) is an HTTP proxy, as Go reads it. */
function proxyUrlOf(value: string): string {
  return /^(https?|socks5h?):\/\//i.test(value) ? value : `http://${value}`;
}

/**
 * The proxy that the environment names for requests to `server`, or `undefined` to connect directly: `HTTPS_PROXY`
 * (or `https_proxy`) for an `https:` server, `HTTP_PROXY` (or `http_proxy`) for an `http:` one, unless `NO_PROXY` (or
 * `no_proxy`) exempts its host — Go's `http.ProxyFromEnvironment`, which kubectl and client-go use when a kubeconfig
 * has no `proxy-url`:
 *
 * - `NO_PROXY` is a comma-separated list of host names (each also covers its subdomains; a leading `.` or `*.`
 *   covers only subdomains), IP addresses, CIDR ranges, each optionally with `:port`; `*` exempts everything;
 * - `localhost` and loopback addresses never go through a proxy;
 * - a proxy without a scheme is an HTTP proxy.
 *
 * @example
 * ```ts
 * proxyFromEnvironment('https://10.0.0.1:6443', { HTTPS_PROXY: 'proxy.corp:3128', NO_PROXY: '.cluster.local' });
 * // 'http://proxy.corp:3128'
 * ```
 */
export function proxyFromEnvironment(server: string, env: Env = process.env): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return undefined;
  const proxy = https ? first(env, 'HTTPS_PROXY', 'https_proxy') : first(env, 'HTTP_PROXY', 'http_proxy');
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (https ? '443' : '80');
  return useProxy(host, port, parseNoProxy(first(env, 'NO_PROXY', 'no_proxy'))) ? proxyUrlOf(proxy) : undefined;
}

/**
 * `endpoint` with the proxy the environment names for its server ({@link proxyFromEnvironment}) when it has no
 * `proxy-url` of its own (the kubeconfig's wins, as in kubectl); as it is otherwise. Read at each request, as the
 * environment may change (a few microseconds: one URL parse, and NO_PROXY's list only when a proxy is named).
 *
 * @example
 * ```ts
 * withEnvironmentProxy({ server: 'https://10.0.0.1:6443' }, { HTTPS_PROXY: 'http://proxy:3128' })?.proxyUrl; // 'http://proxy:3128'
 * ```
 */
export function withEnvironmentProxy(endpoint: Endpoint | undefined, env: Env = process.env): Endpoint | undefined {
  if (!endpoint || endpoint.proxyUrl) return endpoint;
  const proxyUrl = proxyFromEnvironment(endpoint.server, env);
  return proxyUrl ? { ...endpoint, proxyUrl } : endpoint;
}
