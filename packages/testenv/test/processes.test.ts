import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { isAlive, OWNER_ENV, processesMarkedWith, startWatchdog, stopProcessGroup } from '../src/processes.ts';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** A detached process group that ignores SIGTERM, as a kube-apiserver whose etcd has gone away. */
function stubborn(env: Record<string, string> = {}): number {
  const child = spawn('sh', ['-c', 'trap "" TERM; while :; do sleep 0.2; done'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...env },
  });
  child.unref();
  if (!child.pid) throw new Error('no pid');
  started.push(child.pid);
  return child.pid;
}

it('stopProcessGroup escalates to SIGKILL when SIGTERM is ignored', async () => {
  const pid = stubborn();
  await sleep(100);
  const t0 = Date.now();
  await stopProcessGroup(pid, 300);
  expect(isAlive(pid)).toBe(false);
  expect(Date.now() - t0).toBeLessThan(3_000);
});

it('finds the processes of one control plane by their marker, and only those', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-marker-'));
  try {
    const ours = stubborn({ [OWNER_ENV]: dir });
    const theirs = stubborn({ [OWNER_ENV]: `${dir}-other` });
    await sleep(100);
    // (their children, which inherit the environment, are found as well)
    expect(processesMarkedWith(dir)).toContain(ours);
    expect(processesMarkedWith(dir)).not.toContain(theirs);
    expect(processesMarkedWith(`${dir}-other`)).toContain(theirs);
    expect(processesMarkedWith(`${dir}-other`)).not.toContain(ours);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the watchdog kills a marked process missing from the pid file, through SIGTERM to SIGKILL, once its owner dies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kwatch-watchdog-'));
  try {
    const pidFile = join(dir, 'pids');
    writeFileSync(pidFile, '\n'); // stale: the restarted process is not in it
    const marked = stubborn({ [OWNER_ENV]: dir });
    const owner = spawn('sleep', ['0.5'], { stdio: 'ignore' });
    startWatchdog(owner.pid ?? 0, pidFile, dir);
    const deadline = Date.now() + 15_000;
    while (isAlive(marked) && Date.now() < deadline) await sleep(100);
    expect(isAlive(marked)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 20_000);
