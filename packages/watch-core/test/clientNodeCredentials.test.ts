// clientNodeCredentials: what prepare() builds from a client-node KubeConfig — the server, the auth headers, and the
// endpoint of kwatch's own connections (or client-node's dispatcher for SOCKS and PFX) — asked anew every time.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clientNodeCredentials } from '../src/client/clientNodeCredentials.ts';
import { KwatchError } from '../src/index.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nnot-parsed-until-connecting\n-----END CERTIFICATE-----\n');
let clusters = 0;

function kubeConfig(
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
  context: { cluster?: string } = {},
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://cluster-${clusters++}.example:6443/`, caData: CA.toString('base64'), ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'ctx', cluster: context.cluster ?? 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('clientNodeCredentials', () => {
  it("a token: the server without its trailing slash, Bearer, and an endpoint of kwatch's own connections", async () => {
    const kc = kubeConfig({ token: 'cn-token' }, { server: 'https://shared.example:6443/', tlsServerName: 'kubernetes' });
    const server = 'https://shared.example:6443';
    const creds = clientNodeCredentials(kc);
    const first = await creds.prepare(true);
    expect(first.server).toBe(server);
    expect(first.headers).toEqual({ Authorization: 'Bearer cn-token' });
    expect(first.dispatcher).toBeUndefined(); // no undici: kwatch's connections, with their HTTP/2 PING health check
    expect(first.endpoint).toEqual({
      server,
      ca: CA,
      cert: undefined,
      key: undefined,
      servername: 'kubernetes',
      rejectUnauthorized: undefined,
      proxyUrl: undefined,
    });
    expect(creds.refresh()).toBe(true);
  });

  it('an HTTP proxy and insecure-skip-tls-verify are carried to the endpoint, never dropped', async () => {
    const kc = kubeConfig({ token: 't' }, { proxyUrl: 'http://user:secret@proxy.example:3128', skipTLSVerify: true });
    const { endpoint, dispatcher } = await clientNodeCredentials(kc).prepare(true);
    expect(dispatcher).toBeUndefined();
    expect(endpoint?.proxyUrl).toBe('http://user:secret@proxy.example:3128');
    expect(endpoint?.rejectUnauthorized).toBe(false);
  });

  it('asks the KubeConfig anew for every request (a rotated token is used at once)', async () => {
    const kc = kubeConfig({ token: 'before-rotation' });
    const creds = clientNodeCredentials(kc);
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer before-rotation');
    (kc.getCurrentUser() as { token?: string }).token = 'after-rotation';
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer after-rotation');
  });

  it('basic auth: the username and password as a Basic header', async () => {
    const prepared = await clientNodeCredentials(kubeConfig({ username: 'admin', password: 'pa:ss' })).prepare(true);
    expect(prepared.headers).toEqual({ Authorization: `Basic ${Buffer.from('admin:pa:ss').toString('base64')}` });
  });

  it('a client certificate goes to the endpoint (its identity), with no header', async () => {
    const cert = Buffer.from('CERT').toString('base64');
    const kc1 = kubeConfig({ certData: cert, keyData: Buffer.from('KEY-1').toString('base64') }, { server: 'https://same:6443' });
    const a = await clientNodeCredentials(kc1).prepare(true);
    expect(a.headers).toEqual({});
    expect(a.endpoint?.cert?.toString()).toBe('CERT');
    expect(a.endpoint?.key?.toString()).toBe('KEY-1');
  });

  it('no TLS settings at all: an endpoint without CA (the system CAs verify the server)', async () => {
    const prepared = await clientNodeCredentials(kubeConfig({ token: 't' }, { caData: undefined })).prepare(true);
    expect(prepared.headers.Authorization).toBe('Bearer t');
    expect(prepared.dispatcher).toBeUndefined();
    expect(prepared.endpoint?.ca).toBeUndefined();
    expect(prepared.endpoint?.rejectUnauthorized).toBeUndefined();
  });

  it("a SOCKS proxy: client-node's own dispatcher per request, with its headers", async () => {
    const creds = clientNodeCredentials(kubeConfig({ token: 'socks-token' }, { proxyUrl: 'socks5://127.0.0.1:1080' }));
    const a = await creds.prepare(true);
    const b = await creds.prepare(true);
    expect(a.headers.Authorization).toBe('Bearer socks-token');
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher); // not shared: made per request
  });

  it("a SOCKS proxy on a KubeConfig without createDispatcherOptions (an older client-node): its RequestContext's dispatcher", async () => {
    const kc = kubeConfig({ token: 'old-token' }, { proxyUrl: 'socks5://127.0.0.1:1080' });
    // Seen from outside without the method; client-node's own methods still reach theirs.
    const older = new Proxy(kc, {
      get(target, property) {
        if (property === 'createDispatcherOptions') return undefined;
        const v = Reflect.get(target, property, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const creds = clientNodeCredentials(older);
    const a = await creds.prepare(true);
    const b = await creds.prepare(true);
    expect(a.headers).toMatchObject({ Authorization: 'Bearer old-token' });
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher);
  });

  it('no current cluster: INVALID_OPTION, without the credential', async () => {
    const error = await clientNodeCredentials(kubeConfig({ token: 'hidden-token-42' }, {}, { cluster: 'missing' }))
      .prepare(true)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KwatchError);
    expect(error).toMatchObject({
      code: 'INVALID_OPTION',
      message: 'The kubeConfig has no current cluster (set a current-context)',
    });
    expect(String(error)).not.toContain('hidden-token-42');
  });
});
