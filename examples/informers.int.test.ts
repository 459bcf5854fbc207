// examples/informers.ts against the real control plane, run twice to show resume.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { attachControlPlane } from '@kwatch/testenv';
import { expect, inject, it } from 'vitest';

const cp = attachControlPlane(inject('kwatchTestenvState'));
const core = cp.kubeConfig.makeApiClient(CoreV1Api);

function run(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@kwatch/source', join(import.meta.dirname, 'informers.ts'), ...args], {
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
const put = (namespace: string, name: string, app: string, v: string) =>
  core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { app } }, data: { v } } });
const patch = (namespace: string, name: string, v: string) =>
  core.patchNamespacedConfigMap({ name, namespace, body: [{ op: 'replace', path: '/data', value: { v } }] });

it('informers.ts: one watch, an index, the old object; run again, it resumes after what it took', async () => {
  const ns = `ex-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await put(ns, 'w1', 'web', '1');
  await put(ns, 'w2', 'web', '1');
  await put(ns, 'd1', 'db', '1');
  const rvFile = join(mkdtempSync(join(tmpdir(), 'kw-ex-')), 'cm.rv');

  const first = run([ns, rvFile]);
  await printed(first, 'same store');
  await patch(ns, 'w1', '2');
  await printed(first, 'modified w1');
  await printed(first, 'SYNCED');
  expect(await first.code, first.out.stderr).toBe(0);
  expect(first.out.stdout).toContain('web: w1,w2');
  expect(first.out.stdout).toContain('watches: 1 holders: 2 same store: true');
  expect(first.out.stdout).toContain('modified w1: 1 -> 2');

  await put(ns, 'later', 'web', '1'); // while no process runs
  const second = run([ns, rvFile]);
  await printed(second, 'same store');
  await patch(ns, 'w2', '2');
  expect(await second.code, second.out.stderr).toBe(0);
  expect(second.out.stdout).toContain('resumed: ADDED later'); // after the saved version: only what changed
  expect(second.out.stdout).not.toContain('(synthetic)');
});
