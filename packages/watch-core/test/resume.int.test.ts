// Resume across restarts on the real control plane: a process killed with SIGKILL and started again
// delivers exactly the changes made while it was down; after a compaction, it resyncs.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** Starts the resuming watcher in a process of its own; `lines` fills as it prints. */
function start(ns: string, rvFile: string) {
  const child = spawn(
    process.execPath,
    ['--conditions=@kwatch/source', join(import.meta.dirname, 'fixtures/resumingWatcher.ts'), cp.kubeconfigPath, ns, rvFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  const lines: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    lines,
    async until(predicate: (l: string[]) => boolean, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!predicate(lines)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(lines)}`);
        await sleep(25);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
      children.delete(child);
    },
  };
}

async function savedIs(rvFile: string, rv: string): Promise<void> {
  const deadline = Date.now() + 5000;
  const read = () => {
    try {
      return readFileSync(rvFile, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  while (read() !== rv && Date.now() < deadline) await sleep(50);
  expect(read()).toBe(rv);
}

const patch = (name: string, ns: string, v: string) =>
  core.patchNamespacedConfigMap({ name, namespace: ns, body: [{ op: 'replace', path: '/data', value: { v } }] });

it('killed with SIGKILL and started again: exactly the changes made while it was down; after a compaction, a resync', async () => {
  const ns = await freshNamespace('resume');
  const rvFile = join(mkdtempSync(join(tmpdir(), 'kw-resume-')), 'configmaps.rv');
  await createConfigMaps(ns, ['a', 'b']);

  const first = start(ns, rvFile);
  await first.until((l) => l.includes('SYNCED'));
  expect(first.lines).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED']);
  const { c: rvC } = await createConfigMaps(ns, ['c']);
  await first.until((l) => l.includes('ADDED c'));
  await savedIs(rvFile, rvC as string); // saved within a second of being taken
  await first.kill();

  // While it is down.
  await createConfigMaps(ns, ['d']);
  await patch('b', ns, '2');
  await core.deleteNamespacedConfigMap({ name: 'c', namespace: ns });

  const second = start(ns, rvFile);
  await second.until((l) => l.length >= 3);
  await sleep(1500); // and nothing more
  expect(second.lines).toEqual(['ADDED d', 'MODIFIED b', 'DELETED c']);
  const { e: rvE } = await createConfigMaps(ns, ['e']);
  await second.until((l) => l.includes('ADDED e'));
  await savedIs(rvFile, rvE as string);
  await second.kill();

  // While it is down: changes, then a compaction past the saved version (410 Gone on resume).
  await core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
  await patch('d', ns, '2');
  await createConfigMaps(ns, ['f']);
  await cp.compact(await cp.etcdRevision());

  const third = start(ns, rvFile);
  await third.until((l) => l.includes('SYNCED'), 60_000);
  // A full replay of the current state, marked synthetic; 'a' is simply absent (deleted while away).
  expect(third.lines[0]).toBe('RESYNC');
  expect(third.lines.slice(1, -1).sort()).toEqual(['ADDED* b', 'ADDED* d', 'ADDED* e', 'ADDED* f']);
  expect(third.lines.at(-1)).toBe('SYNCED');
  await patch('f', ns, '2');
  await third.until((l) => l.includes('MODIFIED f'));
  expect(third.lines.filter((l) => l === 'MODIFIED f')).toHaveLength(1);
  await third.kill();
}, 120_000);
