// kubeConfigTransport: a client-node KubeConfig's cluster and user through a KubeClient — seen from a loopback
// HTTPS server (127.0.0.1, a self-signed certificate made with openssl): the credentials, HTTP/2 unless told
// not to, the KubeConfig's TLS settings, and no token in an error.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KwatchError, kubeConfigTransport } from '../src/index.ts';

interface Seen {
  readonly version: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
}
let server: Http2SecureServer;
let url: string;
let cert: Buffer;
const seen: Seen[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-transport-'));
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  cert = readFileSync(join(dir, 'cert.pem'));
  server = createSecureServer({ key: readFileSync(join(dir, 'key.pem')), cert, allowHTTP1: true }, (req, res) => {
    seen.push({
      version: req.httpVersion,
      path: req.url,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
    });
    if (req.headers.authorization !== 'Bearer good-token') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url?.includes('watch=true')) res.end('{"type":"ADDED","object":{}}\n');
    else res.end(JSON.stringify({ kind: 'PodList', items: [{ n: 1 }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function kubeConfig(token: string, cluster: Record<string, unknown> = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `${url}/`, caData: cert.toString('base64'), ...cluster }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}
const signal = () => AbortSignal.timeout(5000);
const since = (n: number) => seen.slice(n);

describe('kubeConfigTransport', () => {
  it("is a KubeClient sending a LIST page with the KubeConfig's token over HTTP/2, verified against its CA", async () => {
    const transport = kubeConfigTransport(kubeConfig('good-token'));
    expect(transport).toBeInstanceOf(KubeClient);
    const before = seen.length;
    const page = await transport.getJson('/api/v1/pods', new URLSearchParams({ limit: '5' }), signal());
    expect(page).toEqual({ kind: 'PodList', items: [{ n: 1 }] });
    expect(since(before)).toEqual([
      { version: '2.0', path: '/api/v1/pods?limit=5', authorization: 'Bearer good-token', accept: 'application/json' },
    ]);
  });

  it('http2: false speaks HTTP/1.1', async () => {
    const transport = kubeConfigTransport(kubeConfig('good-token'), { http2: false });
    const before = seen.length;
    await transport.getJson('/api/v1/pods', new URLSearchParams(), signal());
    expect(since(before).map((s) => s.version)).toEqual(['1.1']);
  });

  it('a watch: the stream of the body, with the accept asked for', async () => {
    const transport = kubeConfigTransport(kubeConfig('good-token'));
    const before = seen.length;
    const body = await transport.openStream(
      '/api/v1/pods',
      new URLSearchParams({ watch: 'true' }),
      signal(),
      'application/json;as=Table',
    );
    let text = '';
    for await (const chunk of body) text += Buffer.from(chunk).toString();
    expect(text).toBe('{"type":"ADDED","object":{}}\n');
    expect(since(before)).toMatchObject([{ path: '/api/v1/pods?watch=true', accept: 'application/json;as=Table' }]);
  });

  it("uses the KubeConfig's TLS settings: without its CA the server's certificate is refused (TLS_ERROR)", async () => {
    const transport = kubeConfigTransport(kubeConfig('good-token', { caData: undefined }));
    const error = (await transport.getJson('/api', new URLSearchParams(), signal()).catch((e: unknown) => e)) as KwatchError;
    expect(error.code).toBe('TLS_ERROR');
  });

  it('a refused token: UNAUTHORIZED after asking the KubeConfig once more, the token nowhere in the error', async () => {
    const transport = kubeConfigTransport(kubeConfig('refused-token-5150'));
    const before = seen.length;
    const error = (await transport
      .getJson('/api/v1/pods', new URLSearchParams(), signal())
      .catch((e: unknown) => e)) as KwatchError;
    expect(error.code).toBe('UNAUTHORIZED');
    expect(since(before).map((s) => s.authorization)).toEqual(['Bearer refused-token-5150', 'Bearer refused-token-5150']);
    expect(String(error)).not.toContain('refused-token-5150');
    expect(JSON.stringify(error)).not.toContain('refused-token-5150');
  });
});
