// Every example runs against the real control plane and does what its comment says.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { attachControlPlane, installCRD } from '@kwatch/testenv';
import { describe, expect, inject, it } from 'vitest';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

function run(example: string, args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@kwatch/source', join(import.meta.dirname, example), ...args], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { out, code };
}

async function printed(r: ReturnType<typeof run>, text: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!r.out.stdout.includes(text)) {
    if (Date.now() > deadline) throw new Error(`never printed ${text}: ${r.out.stdout} ${r.out.stderr}`);
    await sleep(20);
  }
}

async function namespaceWith(configMaps: string[]): Promise<string> {
  const ns = `ex-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  for (const name of configMaps)
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { k: 'v' } } });
  return ns;
}

describe('examples/', () => {
  it('watch.ts', async () => {
    const ns = await namespaceWith(['existing']);
    const r = run('watch.ts', [ns, '4']);
    await printed(r, 'ADDED existing');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'live' } } });
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toContain('ADDED existing {"k":"v"}');
    expect(r.out.stdout).toContain('ADDED live {}');
    expect(r.out.stdout).toMatch(/health \{"state":"stopped"/);
  });

  it('multiplex.ts', async () => {
    const ns = await namespaceWith(['cm']);
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' }, stringData: { a: '1', b: '2' } } });
    const r = run('multiplex.ts', [ns, '3']);
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toContain('ADDED configmap cm');
    expect(r.out.stdout).toContain('ADDED secret s keys: a,b');
  });

  it('store.ts', async () => {
    const ns = await namespaceWith(['one', 'two']);
    const r = run('store.ts', [ns]);
    await printed(r, 'cached');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'go' }, data: { ready: 'true' } } });
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toContain('cached one,two');
    expect(r.out.stdout).toContain('ready go cached now 3');
  });

  it('listeners.ts', async () => {
    const ns = await namespaceWith(['a']);
    const r = run('listeners.ts', [ns, '5']);
    await printed(r, 'audit: created a');
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'a' });
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toContain('audit: created a');
    expect(r.out.stdout).toContain('listener error: flaky listener');
    expect(r.out.stdout).toContain('audit: deleted a');
    expect(r.out.stdout).toContain('healthz 200 readyz 200');
  });

  it('leader-election.ts', async () => {
    const r = run('leader-election.ts', ['default']);
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout.trim().split('\n')).toEqual([
      'first leads',
      'first stopped leading',
      'second leads',
      'second stopped leading',
    ]);
  });

  it('custom-resource.ts', async () => {
    const file = join(import.meta.dirname, '../packages/models/test/fixtures/crontab-crd.yaml');
    const crd = await installCRD(cp, readFileSync(file, 'utf8'));
    const ns = await namespaceWith([]);
    await cp.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      ...crd,
      namespace: ns,
      body: {
        apiVersion: 'stable.example.com/v1',
        kind: 'CronTab',
        metadata: { name: 'nightly' },
        spec: { cronSpec: '0 3 * * *' },
      },
    });
    const r = run('custom-resource.ts', [file, '2']);
    expect(await r.code, r.out.stderr).toBe(0);
    expect(r.out.stdout).toContain(`ADDED ${ns}/nightly runs 0 3 * * *`);
  });
});
