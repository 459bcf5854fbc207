import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

// A child process that imports the packages: 1–4 s of start-up on a busy 2-core machine, so not vitest's 5 s default.
it('a watcher backing off keeps the process alive (it does not exit in the middle of for await)', { timeout: 30_000 }, () => {
  // A server that refuses everything: the watcher backs off; after ~1.5 s the script stops it itself.
  // Backoff is full jitter (uniform up to the cap): with a 5 s cap one draw in four retried before the stop
  // and the count read 2; with a one-hour cap that is one in 2,400.
  const script = `
    import { ConfigMap } from '@kwatch/models/v1';
    import { Watcher } from '@kwatch/watch-core';
    const transport = { getJson: async () => { throw Object.assign(new Error('refused'), {}); }, openStream: async () => { const { TransportError } = await import('@kwatch/watch-core'); throw new TransportError('NETWORK_ERROR', 'ECONNREFUSED'); } };
    const watcher = new Watcher(ConfigMap, { transport, resourceVersion: '1', backoff: { initialMs: 3600000, maxMs: 3600000 } });
    setTimeout(() => watcher.stop(), 1500).unref();
    for await (const e of watcher.stream()) console.log(e.type);
    console.log('ended cleanly after', watcher.health().consecutiveErrors, 'failure');
  `;
  const run = spawnSync(process.execPath, ['--conditions=@kwatch/source', '--input-type=module', '-e', script], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(run.stderr).not.toContain('unsettled top-level await');
  expect(run.status).toBe(0);
  expect(run.stdout.trim()).toBe('ended cleanly after 1 failure');
});
