import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('pnpm demo --local runs the embedded control plane, shows the workload live, and ends by itself', () => {
  const root = join(import.meta.dirname, '..');
  const run = spawnSync(process.execPath, ['--conditions=@kwatch/source', 'scripts/demo.ts', '--local', '--duration', '6'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 150_000,
    env: { ...process.env, KUBECONFIG: '' },
  });
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.split('\n');
  for (const what of [
    /ADDED\s+ConfigMap/,
    /MODIFIED\s+ConfigMap/,
    /ADDED\s+Pod\s+.*Pending/,
    /DELETED\s+Pod/,
    /ADDED\s+Namespace/,
  ]) {
    expect(
      lines.some((l) => what.test(l)),
      String(what),
    ).toBe(true);
  }
  expect(run.stderr).toContain('starting the embedded control plane');
  expect(run.stderr).toContain('demo: done');
}, 180_000);
