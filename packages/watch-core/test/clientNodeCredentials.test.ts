// clientNodeCredentials: what prepare() builds from a client-node KubeConfig — the server, the auth headers, and
// the shared dispatcher (or client-node's own per request) — asked anew every time. No network.
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
  it('a token: the server without its trailing slash, Bearer, and a dispatcher shared by the same identity', async () => {
    const kc = kubeConfig({ token: 'cn-token' }, { server: 'https://shared.example:6443/' });
    const server = 'https://shared.example:6443';
    const creds = clientNodeCredentials(kc);
    const first = await creds.prepare(true);
    expect(first.server).toBe(server);
    expect(first.server.endsWith('/')).toBe(false);
    expect(first.headers).toEqual({ Authorization: 'Bearer cn-token' });
    expect(first.endpoint).toBeUndefined();
    expect(first.dispatcher).toBeDefined();
    // Shared: the next request, and another KubeConfig of the same cluster and identity, use the same connections.
    expect((await creds.prepare(true)).dispatcher).toBe(first.dispatcher);
    const twin = kubeConfig({ token: 'cn-token' }, { server: 'https://shared.example:6443/' });
    expect((await clientNodeCredentials(twin).prepare(true)).dispatcher).toBe(first.dispatcher);
    // Not shared across HTTP versions.
    expect((await creds.prepare(false)).dispatcher).not.toBe(first.dispatcher);
    expect(creds.refresh()).toBe(true);
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

  it('a client certificate is another identity: another shared dispatcher', async () => {
    const cert = Buffer.from('CERT').toString('base64');
    const kc1 = kubeConfig({ certData: cert, keyData: Buffer.from('KEY-1').toString('base64') }, { server: 'https://same:6443' });
    const kc2 = kubeConfig({ certData: cert, keyData: Buffer.from('KEY-2').toString('base64') }, { server: 'https://same:6443' });
    const a = await clientNodeCredentials(kc1).prepare(true);
    const b = await clientNodeCredentials(kc2).prepare(true);
    expect(a.headers).toEqual({});
    expect(a.dispatcher).toBeDefined();
    expect(b.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher);
  });

  it('no TLS settings at all: undici’s global dispatcher (none given)', async () => {
    const prepared = await clientNodeCredentials(kubeConfig({ token: 't' }, { caData: undefined })).prepare(true);
    expect(prepared.headers.Authorization).toBe('Bearer t');
    expect(prepared.dispatcher).toBeUndefined();
  });

  it("a SOCKS proxy: client-node's own dispatcher per request, with its headers", async () => {
    const creds = clientNodeCredentials(kubeConfig({ token: 'socks-token' }, { proxyUrl: 'socks5://127.0.0.1:1080' }));
    const a = await creds.prepare(true);
    const b = await creds.prepare(true);
    expect(a.headers.Authorization).toBe('Bearer socks-token');
    expect(a.dispatcher).toBeDefined();
    expect(a.dispatcher).not.toBe(b.dispatcher); // not shared: made per request
  });

  it("a KubeConfig without createDispatcherOptions (an older client-node): its RequestContext's headers and dispatcher", async () => {
    const kc = kubeConfig({ token: 'old-token' });
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
