import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigMap } from '@kwatch/models/v1';
import { type FaultProxy, startFaultProxy } from '@kwatch/testenv';
import { startHealthServer } from '@kwatch/toolkit';
import { type KwatchError, Watcher } from '@kwatch/watch-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, cp } from '../../watch-core/test/helpers.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await startFaultProxy(cp);
});
afterAll(async () => {
  await proxy.stop();
});

const tokens = Object.values(cp.state.tokens);
function expectNoCredential(text: string): void {
  for (const token of tokens) expect(text).not.toContain(token);
  expect(text).not.toMatch(/BEGIN (EC |RSA )?PRIVATE KEY/);
}
const everything = (e: unknown) =>
  [String(e), (e as Error)?.stack ?? '', JSON.stringify(e), String((e as Error)?.cause ?? '')].join('\n');

describe('security', () => {
  it('verifies TLS by default: a server whose CA the kubeconfig does not trust is a clear TLS_ERROR, never a fallback', async () => {
    const base = cp.kubeConfigFor('admin-token');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'no-ca', server: cp.server }], // no certificate-authority: the system's CAs do not know ours
      users: base.users,
      contexts: [{ name: 'x', cluster: 'no-ca', user: 'admin-token' }],
      currentContext: 'x',
    });
    const c = new Collector(new Watcher(ConfigMap, { namespace: 'default', kubeConfig: kc }).stream());
    await c.done;
    const e = c.error as KwatchError;
    expect(e.code).toBe('TLS_ERROR');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(
      /TLS verification of the API server failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    expectNoCredential(everything(e));
  });

  it('401: credentials are asked for again once, then a clear UNAUTHORIZED', async () => {
    proxy.failNext({ status: 401, match: 'configmaps' }, 2);
    const before = proxy.requests.length;
    const errors: KwatchError[] = [];
    const c = new Collector(
      new Watcher(ConfigMap, {
        namespace: 'default',
        kubeConfig: proxy.kubeConfig(),
        hooks: { error: (e) => errors.push(e) },
      }).stream(),
    );
    await c.done;
    expect((c.error as KwatchError).code).toBe('UNAUTHORIZED');
    expect(proxy.requests.length - before).toBe(2);
    // The client asked the KubeConfig again and retried once (2 requests); the watcher reports one failure.
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHORIZED']);
    for (const e of errors) expectNoCredential(everything(e));
  });

  it('no token or key in errors, hook reports, health output or CLI output (run with known tokens)', async () => {
    const seen: string[] = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'default',
      kubeConfig: cp.kubeConfigFor('restricted-token'),
      hooks: { error: (e) => seen.push(everything(e)) },
    });
    const c = new Collector(w.stream());
    await c.done;
    seen.push(everything(c.error));
    const health = await startHealthServer({
      port: 0,
      sources: () => [{ name: 'cm', health: () => w.health(), ready: () => false }],
    });
    seen.push(await (await fetch(`${health.url}/healthz`)).text(), await (await fetch(`${health.url}/readyz`)).text());
    await health.close();
    const cli = spawnSync(
      process.execPath,
      [
        '--conditions=@kwatch/source',
        join(import.meta.dirname, '../src/bin.ts'),
        'configmaps',
        '-n',
        'default',
        '--context',
        'restricted-token',
        '--log-level',
        'debug',
      ],
      { env: { ...process.env, KUBECONFIG: cp.kubeconfigPath }, encoding: 'utf8', timeout: 30_000 },
    );
    expect(cli.status).toBe(1);
    seen.push(cli.stdout, cli.stderr);
    const all = seen.join('\n');
    expect(all).toContain('forbidden');
    expectNoCredential(all);
  });
});
