/**
 * Every way of authenticating that kwatch's own kubeconfig reader serves, on the real control
 * plane: client certificates (data and files), tokens, token files rotated while watching, exec
 * plugins (v1 and v1beta1, re-run on expiry and after a 401), in-cluster, KUBECONFIG merging;
 * and that none of them loads @kubernetes/client-node.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ConfigMap } from '@kwatch/models/v1';
import { type FaultProxy, startFaultProxy } from '@kwatch/testenv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inClusterKubeconfig } from '../src/client/inCluster.ts';
import { type KubeClient as Client, KubeClient, type KwatchError, readKubeconfig, Watcher } from '../src/index.ts';
import { Collector, cp, createConfigMaps, freshNamespace } from './helpers.ts';

let proxy: FaultProxy;
let dir: string;
beforeAll(async () => {
  proxy = await startFaultProxy(cp);
  dir = mkdtempSync(join(tmpdir(), 'kwatch-auth-'));
});
afterAll(async () => {
  await proxy.stop();
});
const live = new Set<Watcher<typeof ConfigMap>>();
afterEach(() => {
  for (const w of live) w.stop();
  live.clear();
});

let files = 0;
/** Writes a kubeconfig (JSON) with one context `test`; `server` defaults to the apiserver itself. */
function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const path = join(dir, `kubeconfig-${files++}`);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: cp.server, 'certificate-authority': cp.state.tls.caFile, ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'test', context: { cluster: 'c', user: 'u', namespace: 'from-context' } }],
    'current-context': 'test',
  };
  writeFileSync(path, JSON.stringify(doc), { mode: 0o600 });
  return path;
}

function clientFor(path: string): Client {
  return new KubeClient({ kubeConfig: readKubeconfig({ path }) });
}

async function watchOne(client: Client): Promise<Collector> {
  const ns = await freshNamespace();
  await createConfigMaps(ns, ['a']);
  const w = new Watcher(ConfigMap, { namespace: ns, transport: client, backoff: { initialMs: 100, maxMs: 200 } });
  live.add(w);
  const c = new Collector(w.stream());
  await c.until((x) => x.lines.includes('ADDED a'));
  return c;
}

/** A shell script printing an ExecCredential whose token is read from `tokenFile` on every run; counts its runs. */
function execPlugin(
  tokenFile: string,
  apiVersion = 'client.authentication.k8s.io/v1',
  expiry = '',
): { script: string; runs: () => number } {
  const calls = join(dir, `calls-${files++}`);
  writeFileSync(calls, '');
  const script = join(dir, `cred-${files++}.sh`);
  const expires = expiry ? `,"expirationTimestamp":"'"$(date -u -d '${expiry}' +%Y-%m-%dT%H:%M:%SZ)"'"` : '';
  writeFileSync(
    script,
    `#!/bin/sh\necho call >> '${calls}'\ntest -n "$KUBERNETES_EXEC_INFO" || exit 3\nprintf '{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":{"token":"%s"${expires}}}' "$(cat '${tokenFile}')"\n`,
  );
  chmodSync(script, 0o755);
  return { script, runs: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean).length };
}

const pem = (file: string) => readFileSync(file).toString('base64');

describe("kwatch's kubeconfig reader on the real control plane", () => {
  it('client certificate, embedded (the testenv kubeconfig, context admin)', async () => {
    const c = await watchOne(new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath, context: 'admin' }) }));
    expect(c.error).toBeUndefined();
  });

  it('client certificate, from files relative to the kubeconfig', async () => {
    const path = kubeconfig({ 'client-certificate': cp.state.tls.certFile, 'client-key': cp.state.tls.keyFile });
    await watchOne(clientFor(path));
  });

  it('bearer token (admin-token), and a refused one is UNAUTHORIZED without the token in the message', async () => {
    await watchOne(new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath, context: 'admin-token' }) }));
    const bad = clientFor(kubeconfig({ token: 'not-a-valid-token-1234' }));
    const err = (await bad
      .request({ path: '/api/v1/namespaces', signal: AbortSignal.timeout(5000) })
      .catch((e) => e)) as KwatchError;
    expect(err.code).toBe('UNAUTHORIZED');
    expect(String(err.message)).not.toContain('not-a-valid-token-1234');
  });

  it('restricted-token: the server says who we are', async () => {
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath, context: 'restricted-token' }) });
    const err = (await client
      .request({ path: '/api/v1/namespaces', signal: AbortSignal.timeout(5000) })
      .catch((e) => e)) as KwatchError;
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('User "restricted"');
  });

  it('a token file rotated while watching: the reconnect uses the new token', async () => {
    const tokenFile = join(dir, 'token-rotating');
    writeFileSync(tokenFile, `${cp.state.tokens.admin}\n`);
    const path = kubeconfig({ tokenFile }, { server: proxy.url });
    const c = await watchOne(clientFor(path));
    writeFileSync(tokenFile, `${cp.state.tokens.restricted}\n`); // rotated
    proxy.cut();
    await c.done;
    expect((c.error as KwatchError).code).toBe('FORBIDDEN');
    expect((c.error as KwatchError).message).toContain('User "restricted" cannot');
    expect(String(c.error)).not.toContain(cp.state.tokens.restricted);
  });

  for (const apiVersion of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']) {
    it(`exec plugin (${apiVersion.split('/')[1]}): run once, again when its credential expires`, async () => {
      const tokenFile = join(dir, `exec-token-${files++}`);
      writeFileSync(tokenFile, cp.state.tokens.admin);
      const { script, runs } = execPlugin(tokenFile, apiVersion, '+1 second');
      const path = kubeconfig({ exec: { apiVersion, command: script, interactiveMode: 'Never' } }, { server: proxy.url });
      const c = await watchOne(clientFor(path));
      expect(runs()).toBeGreaterThanOrEqual(1);
      writeFileSync(tokenFile, cp.state.tokens.restricted);
      await sleep(2100); // expired
      proxy.cut();
      await c.done;
      expect((c.error as KwatchError).code).toBe('FORBIDDEN');
      expect(runs()).toBeGreaterThanOrEqual(2);
    });
  }

  it('exec plugin without expiry: cached, re-run after a 401, the request repeated once', async () => {
    const tokenFile = join(dir, 'exec-token-401');
    writeFileSync(tokenFile, 'stale-token');
    const { script, runs } = execPlugin(tokenFile);
    const client = clientFor(
      kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script, interactiveMode: 'Never' } }),
    );
    const signal = AbortSignal.timeout(10_000);
    expect(((await client.request({ path: '/api/v1/namespaces', signal }).catch((e) => e)) as KwatchError).code).toBe(
      'UNAUTHORIZED',
    );
    expect(runs()).toBe(2); // the first answer 401: run again, still refused
    writeFileSync(tokenFile, cp.state.tokens.admin);
    const list = await client.request<{ items: unknown[] }>({ path: '/api/v1/namespaces', signal });
    expect(list.items.length).toBeGreaterThan(0);
    expect(runs()).toBe(3); // the cached stale token got a 401: re-run, then served
    await client.request({ path: '/api/v1/namespaces', signal });
    expect(runs()).toBe(3); // cached
  });

  it('exec plugin failures are CREDENTIALS_ERROR naming the command, never its output', async () => {
    const script = join(dir, 'failing.sh');
    writeFileSync(script, '#!/bin/sh\necho secret-output-1234\nexit 7\n');
    chmodSync(script, 0o755);
    const client = clientFor(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: script } }));
    const err = (await client
      .request({ path: '/api/v1/namespaces', signal: AbortSignal.timeout(5000) })
      .catch((e) => e)) as KwatchError;
    expect(err.code).toBe('CREDENTIALS_ERROR');
    expect(err.message).toContain("'failing.sh' failed (exit code 7)");
    expect(err.message).not.toContain('secret-output');
    const missing = clientFor(
      kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'no-such-plugin', installHint: 'brew it' } }),
    );
    const e2 = (await missing.request({ path: '/api', signal: AbortSignal.timeout(5000) }).catch((e) => e)) as KwatchError;
    expect(e2.message).toContain("'no-such-plugin' was not found: brew it");
  });

  it('tls-server-name: verified against the given name; a wrong CA fails with TLS_ERROR, not silently', async () => {
    // The serving certificate names localhost and 127.0.0.1: reached by IP, verified as the name given.
    const ok = clientFor(kubeconfig({ token: cp.state.tokens.admin }, { 'tls-server-name': 'localhost' }));
    await ok.request({ path: '/api', signal: AbortSignal.timeout(5000) });
    const wrongName = clientFor(kubeconfig({ token: cp.state.tokens.admin }, { 'tls-server-name': 'elsewhere.example' }));
    const e1 = (await wrongName.request({ path: '/api', signal: AbortSignal.timeout(5000) }).catch((e) => e)) as KwatchError;
    expect(e1.code).toBe('TLS_ERROR');
    const wrongCa = clientFor(
      kubeconfig(
        { token: cp.state.tokens.admin },
        { 'certificate-authority': undefined, 'certificate-authority-data': pem(cp.state.tls.certFile) },
      ),
    );
    const err = (await wrongCa.request({ path: '/api', signal: AbortSignal.timeout(5000) }).catch((e) => e)) as KwatchError;
    expect(err.code).toBe('TLS_ERROR');
    const insecure = clientFor(
      kubeconfig({ token: cp.state.tokens.admin }, { 'certificate-authority': undefined, 'insecure-skip-tls-verify': true }),
    );
    await insecure.request({ path: '/api', signal: AbortSignal.timeout(5000) });
  });

  it('proxy-url: requests tunnel through an HTTP CONNECT proxy (undici, loaded for it)', async () => {
    const tunnels: string[] = [];
    const proxyServer = createHttpServer();
    proxyServer.on('connect', (req, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxyServer.listen(0, '127.0.0.1', r));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxyServer.address() as { port: number }).port}`;
      const client = clientFor(kubeconfig({ token: cp.state.tokens.admin }, { 'proxy-url': proxyUrl }));
      const list = await client.request<{ items: unknown[] }>({
        path: '/api/v1/namespaces',
        signal: AbortSignal.timeout(10_000),
      });
      expect(list.items.length).toBeGreaterThan(0);
      expect(tunnels).toEqual([new URL(cp.server).host]);
    } finally {
      proxyServer.closeAllConnections();
      proxyServer.close();
    }
  });

  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT, the service account token file and CA', async () => {
    const sa = mkdtempSync(join(tmpdir(), 'kwatch-sa-'));
    writeFileSync(join(sa, 'token'), cp.state.tokens.admin);
    writeFileSync(join(sa, 'ca.crt'), readFileSync(cp.state.tls.caFile));
    writeFileSync(join(sa, 'namespace'), 'web\n');
    const url = new URL(cp.server);
    const kc = inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, sa);
    expect(kc?.namespace).toBe('web');
    await watchOne(new KubeClient({ kubeConfig: kc }));
  });

  it('KUBECONFIG with several files, merged as kubectl merges them (first wins), and the default Watcher', async () => {
    const first = kubeconfig({ token: cp.state.tokens.admin });
    const second = kubeconfig({ token: 'loses' });
    const kc = readKubeconfig({ env: { KUBECONFIG: `${join(dir, 'missing')}:${first}:${second}` } });
    expect(kc.files).toEqual([first, second]);
    expect(kc.user.token).toBe(cp.state.tokens.admin);
    expect(kc.namespace).toBe('from-context');
    await watchOne(new KubeClient({ kubeConfig: kc }));
  });
});

describe('@kubernetes/client-node stays unloaded', () => {
  // A fresh process (vitest's module registry is shared): every module resolved is recorded by a hook.
  const run = promisify(execFile);
  const root = join(import.meta.dirname, '..');
  const probe = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
    const { Watcher } = await import('${join(root, 'src', 'index.ts')}');
    const { ConfigMap } = await import('kubernetes-models/v1/ConfigMap');
    const w = new Watcher(ConfigMap, { namespace: 'kube-system' });
    for await (const e of w.stream({ markers: true })) if (e.type === 'SYNCED') break;
    console.log(JSON.stringify(seen.filter((u) => u.includes('client-node')).length));
  `;
  for (const kind of ['token', 'exec'] as const) {
    it(`a Watcher with the default kubeconfig (${kind}) streams without loading it`, async () => {
      const tokenFile = join(dir, `probe-${kind}`);
      writeFileSync(tokenFile, cp.state.tokens.admin);
      const user =
        kind === 'token'
          ? { tokenFile }
          : { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: execPlugin(tokenFile).script } };
      const { stdout } = await run(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', probe], {
        cwd: root,
        env: { ...process.env, KUBECONFIG: kubeconfig(user) },
        timeout: 30_000,
      });
      expect(stdout.trim()).toBe('0');
    });
  }
});
