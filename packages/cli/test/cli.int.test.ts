import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { attachControlPlane } from '@kwatch/testenv';
import { describe, expect, inject, it } from 'vitest';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);
const bin = join(import.meta.dirname, '../src/bin.ts');
const plugin = join(import.meta.dirname, '../../toolkit/test/fixtures/notify-plugin.mjs');

function kwatch(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--conditions=@kwatch/source', bin, ...args], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

async function interrupt(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  child.kill('SIGINT');
  return exited;
}

describe('the kwatch CLI against the real control plane', () => {
  it('--output json: one JSON object per line; several kinds; Ctrl-C exits 0; a plugin logs its messages', async () => {
    const ns = `cli-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    const run = kwatch(['configmaps,secrets', '-n', ns, '--output', 'json', '--plugin', plugin, '--context', 'admin-token']);
    await until(() => run.out.stderr.includes('in sync'));
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1' }, stringData: { password: 'hunter2' } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'before' });
    await until(() => run.out.stdout.includes('"DELETED"') && run.out.stdout.includes('"s1"'));
    expect(await interrupt(run.child, run.exited)).toBe(0);
    const lines = run.out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; kind: string; name: string; namespace: string });
    // Two kinds come over two connections: order holds within a kind, not across kinds.
    expect(lines.map((l) => `${l.type} ${l.kind} ${l.name}`).sort()).toEqual([
      'ADDED ConfigMap before',
      'ADDED Secret s1',
      'DELETED ConfigMap before',
    ]);
    expect(lines.filter((l) => l.kind === 'ConfigMap').map((l) => l.type)).toEqual(['ADDED', 'DELETED']);
    expect(lines.every((l) => l.namespace === ns)).toBe(true);
    expect(run.out.stderr).toContain('kwatch: ADDED Secret s1');
    expect(run.out.stderr).toContain('kwatch: ConfigMap before is gone');
    expect(run.out.stderr).toContain('kwatch: stopped');
    for (const token of Object.values(cp.state.tokens)) expect(run.out.stdout + run.out.stderr).not.toContain(token);
  });

  it('--health-port serves /healthz and /readyz on 127.0.0.1', async () => {
    const run = kwatch(['namespaces', '--health-port', '0', '--log-level', 'debug']);
    await until(() => /health on (http:\/\/127\.0\.0\.1:\d+)/.test(run.out.stderr) && run.out.stderr.includes('in sync'));
    const url = /health on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.out.stderr)?.[1];
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await interrupt(run.child, run.exited)).toBe(0);
  });

  it('--leader-elect: streams only while holding the lease, releases it on Ctrl-C', async () => {
    const lease = `cli-${randomBytes(3).toString('hex')}`;
    const first = kwatch(['namespaces', '-n', 'default', '--leader-elect', lease]);
    await until(() => first.out.stderr.includes(`leading ${lease}`) && first.out.stdout.includes('Namespace'));
    const second = kwatch(['namespaces', '-n', 'default', '--leader-elect', lease]);
    await until(() => second.out.stderr.includes(`waiting for the lease ${lease}`));
    await sleep(1500);
    expect(second.out.stderr).not.toContain(`leading ${lease}`);
    expect(await interrupt(first.child, first.exited)).toBe(0);
    await until(() => second.out.stderr.includes(`leading ${lease}`) && second.out.stdout.includes('Namespace'), 10_000).catch(
      (e) => {
        throw new Error(`${e}: first=${first.out.stderr} second=${second.out.stderr}`);
      },
    );
    expect(await interrupt(second.child, second.exited)).toBe(0);
  });

  it('unknown kinds, missing settings and broken plugins exit with their own codes and a clear message', async () => {
    const unknown = kwatch(['pdos']);
    expect(await unknown.exited).toBe(33);
    expect(unknown.out.stderr).toContain("unknown or unwatchable kind 'pdos'");
    const nothing = kwatch([]);
    expect(await nothing.exited).toBe(33);
    expect(nothing.out.stderr).toContain('nothing to watch');
    const broken = kwatch(['pods', '--plugin', join(import.meta.dirname, '../../toolkit/test/fixtures/broken-plugin.mjs')]);
    expect(await broken.exited).toBe(34);
    expect(broken.out.stderr).toContain('does not export handleEvent');
    const token = kwatch(['pods'], { K8S_TOKEN: 'secret-token-value-123' });
    expect(await token.exited).toBe(31);
    expect(token.out.stderr).not.toContain('secret-token-value-123');
  });

  it('a watch the user may not make ends with the server message and exit 1', async () => {
    const run = kwatch(['configmaps', '-n', 'default', '--context', 'restricted']);
    expect(await run.exited).toBe(1);
    expect(run.out.stderr).toContain('User "restricted" cannot watch resource "configmaps"');
  });
});
