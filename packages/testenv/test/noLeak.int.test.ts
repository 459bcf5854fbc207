import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { attachControlPlane, saveState, startControlPlane } from '../src/index.ts';
import { isAlive } from '../src/processes.ts';

// The leak of issue 13: vitest's global setup holds a handle on the shared control plane; a test file restarts the
// apiserver through a handle of its own (in a worker), so the setup's handle still names the old PID. Its stop()
// then ended etcd, removed the directory and left the restarted apiserver running, reparented to init.
it('stop() ends an apiserver restarted through another handle, and nothing of the control plane is left', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'kwatch-noleak-'));
  const cp = await startControlPlane();
  const setupHandle = saveState(cp, join(stateDir, 'state.json'));
  let restartedPid = -1;
  try {
    const workerHandle = attachControlPlane(join(stateDir, 'state.json'));
    await workerHandle.restartApiserver();
    restartedPid = workerHandle.state.apiserver.pid;
    expect(restartedPid).not.toBe(cp.state.apiserver.pid);
    expect(isAlive(restartedPid)).toBe(true);

    await setupHandle.stop();

    expect(isAlive(restartedPid)).toBe(false);
    expect(isAlive(cp.state.etcd.pid)).toBe(false);
    expect(isAlive(cp.state.apiserver.pid)).toBe(false);
  } finally {
    // Before the fix the restarted apiserver survived; never leave it behind, whatever the outcome.
    if (restartedPid > 0 && isAlive(restartedPid)) process.kill(-restartedPid, 'SIGKILL');
    await cp.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 300_000);
