import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { ControlPlaneState } from '../src/index.ts';
import { isAlive } from '../src/processes.ts';

it('leaves no etcd or kube-apiserver behind when its owner is killed with SIGKILL', async () => {
  const owner = spawn(process.execPath, ['--conditions=@kwatch/source', join(import.meta.dirname, 'fixtures/startAndHang.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: owner.stdout! }).once('line', resolve);
    owner.once('exit', (code) => reject(new Error(`owner exited early with ${code}`)));
  });
  const state = JSON.parse(line) as ControlPlaneState;
  expect(isAlive(state.etcd.pid)).toBe(true);
  expect(isAlive(state.apiserver.pid)).toBe(true);
  expect(existsSync(state.kubeconfigPath)).toBe(true);

  owner.kill('SIGKILL');
  const deadline = Date.now() + 20_000;
  while ((isAlive(state.etcd.pid) || isAlive(state.apiserver.pid)) && Date.now() < deadline) await sleep(100);

  expect(isAlive(state.apiserver.pid)).toBe(false);
  expect(isAlive(state.etcd.pid)).toBe(false);
  rmSync(state.dir, { recursive: true, force: true }); // the watchdog keeps logs; this test does not need them
}, 120_000);
