// kubeconfigCredentials: what prepare() builds from kwatch's own Kubeconfig — tokens, token files re-read when
// they change, client certificates from data or files, basic auth, impersonation, exec plugins (cached, re-run on
// expiry, after refresh() or a failure, one run at a time), auth-providers through client-node — and the shared
// default credentials. No server: prepare() is asked directly.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultCredentials, kubeconfigCredentials } from '../src/client/kubeconfigCredentials.ts';
import type { Kubeconfig, KubeconfigCluster, KubeconfigUser } from '../src/client/kubeconfigModel.ts';
import { ConfigError } from '../src/index.ts';

const V1 = 'client.authentication.k8s.io/v1';
const dir = mkdtempSync(join(tmpdir(), 'kwatch-creds-'));
let n = 0;
const file = (content: string | Buffer, name = `file-${n++}`) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function kubeconfig(user: Partial<KubeconfigUser>, cluster: Partial<KubeconfigCluster> = {}): Kubeconfig {
  return {
    context: 'ctx',
    namespace: undefined,
    cluster: {
      name: 'c',
      server: 'https://10.0.0.1:6443',
      certificateAuthorityData: undefined,
      certificateAuthority: undefined,
      insecureSkipTlsVerify: false,
      tlsServerName: undefined,
      proxyUrl: undefined,
      execExtension: undefined,
      ...cluster,
    },
    user: {
      name: 'u',
      clientCertificateData: undefined,
      clientCertificate: undefined,
      clientKeyData: undefined,
      clientKey: undefined,
      token: undefined,
      tokenFile: undefined,
      username: undefined,
      password: undefined,
      exec: undefined,
      authProvider: undefined,
      impersonate: { groups: [], extra: {} },
      ...user,
    },
    files: [],
    document: {},
  };
}

/**
 * An exec plugin (a node script) that counts its runs and prints the token in `tokenFile` (`token-<run>` when
 * it is empty), with an expiry `expiresInMs` after now when given, or a client certificate with `cert: true`.
 * It fails (exit 3) while `failFile` exists.
 */
function execPlugin(options: { expiresInMs?: number; cert?: boolean; delayMs?: number } = {}) {
  const calls = file('');
  const tokenFile = file('');
  const failFile = join(dir, `fail-${n++}`);
  const command = file(
    `#!${process.execPath}
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(calls)}, 'run\\n');
const run = readFileSync(${JSON.stringify(calls)}, 'utf8').split('\\n').filter(Boolean).length;
if (existsSync(${JSON.stringify(failFile)})) { process.stdout.write('${'fail-output-secret'}'); process.exit(3); }
await new Promise((r) => setTimeout(r, ${options.delayMs ?? 0}));
const token = readFileSync(${JSON.stringify(tokenFile)}, 'utf8') || 'token-' + run;
const status = ${options.cert ? `{ clientCertificateData: 'CERT-' + run, clientKeyData: 'KEY-' + run }` : '{ token }'};
${options.expiresInMs === undefined ? '' : `status.expirationTimestamp = new Date(Date.now() + ${options.expiresInMs}).toISOString();`}
process.stdout.write(JSON.stringify({ apiVersion: '${V1}', kind: 'ExecCredential', status }));
`,
    `plugin-${n++}.mjs`,
  );
  chmodSync(command, 0o755);
  return {
    exec: { apiVersion: V1, command, args: [], env: [], installHint: undefined, provideClusterInfo: false },
    runs: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length,
    setToken: (token: string) => writeFileSync(tokenFile, token),
    failing: (on: boolean) => (on ? writeFileSync(failFile, '') : rmSync(failFile, { force: true })),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('kubeconfigCredentials: static credentials and TLS', () => {
  it('a token: Bearer; the endpoint carries the CA data, tls-server-name and proxy; verification stays on', async () => {
    const ca = Buffer.from('CA-PEM');
    const creds = kubeconfigCredentials(
      kubeconfig({ token: 'tok-1' }, { certificateAuthorityData: ca, tlsServerName: 'api.internal', proxyUrl: 'http://p:3128' }),
    );
    const prepared = await creds.prepare(true);
    expect(prepared.server).toBe('https://10.0.0.1:6443');
    expect(prepared.headers).toEqual({ Authorization: 'Bearer tok-1' });
    expect(prepared.endpoint).toEqual({
      server: 'https://10.0.0.1:6443',
      ca,
      cert: undefined,
      key: undefined,
      servername: 'api.internal',
      rejectUnauthorized: undefined,
      proxyUrl: 'http://p:3128',
    });
    expect(creds.refresh()).toBe(false); // nothing to read again
  });

  it('insecure-skip-tls-verify turns verification off only when the kubeconfig says so', async () => {
    const insecure = await kubeconfigCredentials(kubeconfig({ token: 't' }, { insecureSkipTlsVerify: true })).prepare(true);
    expect(insecure.endpoint?.rejectUnauthorized).toBe(false);
  });

  it('the CA from a file', async () => {
    const caFile = file('CA-FROM-FILE');
    const prepared = await kubeconfigCredentials(kubeconfig({ token: 't' }, { certificateAuthority: caFile })).prepare(true);
    expect(prepared.endpoint?.ca).toEqual(Buffer.from('CA-FROM-FILE'));
  });

  it('a token wins over a token file and basic auth', async () => {
    const tokenFile = file('from-file');
    const prepared = await kubeconfigCredentials(
      kubeconfig({ token: 'inline', tokenFile, username: 'u', password: 'p' }),
    ).prepare(true);
    expect(prepared.headers.Authorization).toBe('Bearer inline');
  });

  it('basic auth with a username and a password; a username alone sends nothing', async () => {
    const basic = await kubeconfigCredentials(kubeconfig({ username: 'admin', password: 'pa:ss' })).prepare(true);
    expect(basic.headers.Authorization).toBe(`Basic ${Buffer.from('admin:pa:ss').toString('base64')}`);
    const alone = await kubeconfigCredentials(kubeconfig({ username: 'admin' })).prepare(true);
    expect(alone.headers).toEqual({});
  });

  it('impersonation headers: user, uid, groups joined, extra keys encoded', async () => {
    const prepared = await kubeconfigCredentials(
      kubeconfig({
        token: 't',
        impersonate: { user: 'jane', uid: 'u-1', groups: ['dev', 'ops'], extra: { 'scopes/x y': ['a', 'b'] } },
      }),
    ).prepare(true);
    expect(prepared.headers).toEqual({
      Authorization: 'Bearer t',
      'Impersonate-User': 'jane',
      'Impersonate-Uid': 'u-1',
      'Impersonate-Group': 'dev,ops',
      'Impersonate-Extra-scopes%2Fx%20y': 'a,b',
    });
  });
});

describe('kubeconfigCredentials: token files', () => {
  it('read on every prepare, trimmed, and read again once the file changed (rotated)', async () => {
    const tokenFile = file('first-token\n');
    const creds = kubeconfigCredentials(kubeconfig({ tokenFile }));
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer first-token');
    writeFileSync(tokenFile, '  rotated-token-two\n');
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer rotated-token-two');
    expect(creds.refresh()).toBe(true); // after a 401 the file may have been rotated
  });

  it('an empty token file is a CREDENTIALS_ERROR naming the file; a missing one names its path only', async () => {
    const tokenFile = file(' \n');
    const error = await kubeconfigCredentials(kubeconfig({ tokenFile }))
      .prepare(true)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CREDENTIALS_ERROR', message: `The token file ${tokenFile} is empty` });
    const gone = join(dir, 'gone-token');
    const missing = await kubeconfigCredentials(kubeconfig({ tokenFile: gone }))
      .prepare(true)
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ENOENT' });
    expect(String(missing)).toContain(gone);
  });

  it('an inline token makes refresh() useless even with a token file', () => {
    expect(kubeconfigCredentials(kubeconfig({ token: 't', tokenFile: file('x') })).refresh()).toBe(false);
    expect(kubeconfigCredentials(kubeconfig({})).refresh()).toBe(false);
  });
});

describe('kubeconfigCredentials: client certificates', () => {
  it('from data, which wins over files', async () => {
    const prepared = await kubeconfigCredentials(
      kubeconfig({
        clientCertificateData: Buffer.from('CERT-DATA'),
        clientKeyData: Buffer.from('KEY-DATA'),
        clientCertificate: file('CERT-FILE'),
        clientKey: file('KEY-FILE'),
      }),
    ).prepare(true);
    expect(prepared.endpoint?.cert).toEqual(Buffer.from('CERT-DATA'));
    expect(prepared.endpoint?.key).toEqual(Buffer.from('KEY-DATA'));
    expect(prepared.headers).toEqual({});
  });

  it('from files, read again once they change (a rotated certificate)', async () => {
    const clientCertificate = file('CERT-1');
    const clientKey = file('KEY-1');
    const creds = kubeconfigCredentials(kubeconfig({ clientCertificate, clientKey }));
    const first = await creds.prepare(true);
    expect([first.endpoint?.cert?.toString(), first.endpoint?.key?.toString()]).toEqual(['CERT-1', 'KEY-1']);
    writeFileSync(clientCertificate, 'CERT-2-rotated');
    writeFileSync(clientKey, 'KEY-2-rotated');
    const second = await creds.prepare(true);
    expect([second.endpoint?.cert?.toString(), second.endpoint?.key?.toString()]).toEqual(['CERT-2-rotated', 'KEY-2-rotated']);
  });
});

describe('kubeconfigCredentials: exec plugins', () => {
  it('without an expiry: run once and cached; refresh() forgets it and the next prepare runs it again', async () => {
    const plugin = execPlugin();
    const creds = kubeconfigCredentials(kubeconfig({ exec: plugin.exec }));
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-1');
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-1');
    expect(plugin.runs()).toBe(1);
    expect(creds.refresh()).toBe(true);
    expect(plugin.runs()).toBe(1); // not at refresh(): at the next request
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-2');
    expect(plugin.runs()).toBe(2);
  });

  it('with an expiry: cached until then, run again once it passed', async () => {
    const plugin = execPlugin({ expiresInMs: 60 * 60_000 });
    const creds = kubeconfigCredentials(kubeconfig({ exec: plugin.exec }));
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-1');
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 30 * 60_000);
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-1');
    expect(plugin.runs()).toBe(1);
    vi.spyOn(Date, 'now').mockReturnValue(now + 61 * 60_000);
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-2');
    expect(plugin.runs()).toBe(2);
  });

  it('one run at a time: concurrent requests share it', async () => {
    const plugin = execPlugin({ delayMs: 200 });
    const creds = kubeconfigCredentials(kubeconfig({ exec: plugin.exec }));
    const all = await Promise.all(Array.from({ length: 5 }, () => creds.prepare(true)));
    expect(all.map((p) => p.headers.Authorization)).toEqual(Array(5).fill('Bearer token-1'));
    expect(plugin.runs()).toBe(1);
  });

  it('a failed run is not kept: the next request runs it again; its output is never in the error', async () => {
    const plugin = execPlugin();
    plugin.failing(true);
    const creds = kubeconfigCredentials(kubeconfig({ exec: plugin.exec }));
    const error = await creds.prepare(true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CREDENTIALS_ERROR' });
    expect(inspect(error)).not.toContain('fail-output-secret');
    plugin.failing(false);
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer token-2');
  });

  it("a plugin's client certificate goes to the endpoint", async () => {
    const plugin = execPlugin({ cert: true });
    const prepared = await kubeconfigCredentials(kubeconfig({ exec: plugin.exec })).prepare(true);
    expect(prepared.headers).toEqual({});
    expect(prepared.endpoint?.cert).toEqual(Buffer.from('CERT-1'));
    expect(prepared.endpoint?.key).toEqual(Buffer.from('KEY-1'));
  });

  it('not run when the kubeconfig gives a token, a token file or a client certificate and key', async () => {
    const plugin = execPlugin();
    for (const user of [
      { token: 'inline' },
      { tokenFile: file('from-file') },
      { username: 'u', password: 'p' },
      { clientCertificateData: Buffer.from('C'), clientKeyData: Buffer.from('K') },
    ]) {
      await kubeconfigCredentials(kubeconfig({ ...user, exec: plugin.exec })).prepare(true);
    }
    expect(plugin.runs()).toBe(0);
    // A certificate without its key is no credential: the plugin runs.
    await kubeconfigCredentials(kubeconfig({ clientCertificateData: Buffer.from('C'), exec: plugin.exec })).prepare(true);
    expect(plugin.runs()).toBe(1);
  });
});

describe('kubeconfigCredentials: auth-providers', () => {
  it("are served by client-node's KubeConfig of the same document (a gcp access-token not expired)", async () => {
    const document = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443/', 'insecure-skip-tls-verify': true } }],
      users: [
        {
          name: 'u',
          user: {
            'auth-provider': {
              name: 'gcp',
              config: { 'access-token': 'ya29.provider-token', expiry: new Date(Date.now() + 3_600_000).toISOString() },
            },
          },
        },
      ],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    };
    const creds = kubeconfigCredentials({ ...kubeconfig({ authProvider: { name: 'gcp' } }), document });
    const prepared = await creds.prepare(false);
    expect(prepared.server).toBe('https://10.0.0.1:6443');
    expect(prepared.headers.Authorization).toBe('Bearer ya29.provider-token');
    expect(prepared.endpoint?.rejectUnauthorized).toBe(false); // insecure-skip-tls-verify kept: kwatch's own connections
    expect(creds.refresh()).toBe(true);
  });
});

describe('defaultCredentials', () => {
  it('one shared source, reading the default kubeconfig at the first request; a failure to read is not kept', async () => {
    expect(defaultCredentials()).toBe(defaultCredentials());
    const path = join(dir, 'default-kubeconfig');
    vi.stubEnv('KUBECONFIG', path);
    const creds = defaultCredentials(); // not read yet: there is no file
    const error = await creds.prepare(true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KUBECONFIG_ERROR' });
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://default.example:6443' } }],
        users: [{ name: 'u', user: { token: 'default-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const prepared = await creds.prepare(true);
    expect(prepared.server).toBe('https://default.example:6443');
    expect(prepared.headers.Authorization).toBe('Bearer default-token');
    expect(creds.refresh()).toBe(false);
    rmSync(path);
    expect(existsSync(path)).toBe(false);
    expect((await creds.prepare(true)).headers.Authorization).toBe('Bearer default-token'); // read once, then kept
  });
});
