// Controller stop and failure paths on fake informers: the drain bound, no start after stop, a throwing onError.
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { Controller } from '../src/index.ts';
import { FakeInformers } from './fakeInformers.ts';

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('Controller stop', () => {
  it('run() resolves within drainTimeoutMs of the abort even when a reconcile ignores its signal (no reconcileTimeoutMs)', async () => {
    const fake = new FakeInformers();
    fake.set('web', 'stuck');
    let started = false;
    let release: (() => void) | undefined;
    const controller = new Controller(ConfigMap, {
      informers: fake.factory,
      reconcile: async () => {
        started = true;
        await new Promise<void>((r) => (release = r)); // ignores its signal
      },
    });
    const stop = new AbortController();
    let resolvedAt: number | undefined;
    const done = controller.run({ signal: stop.signal, drainTimeoutMs: 100 }).then(() => (resolvedAt = Date.now()));
    await until('the reconcile started', () => started);
    const abortedAt = Date.now();
    stop.abort();
    await until('run() resolved', () => resolvedAt !== undefined, 3000).finally(() => release?.());
    await done;
    expect((resolvedAt as number) - abortedAt).toBeLessThan(1000);
  });

  it('a key handed out as the controller stops does not start a reconcile whose signal never aborts', async () => {
    const fake = new FakeInformers();
    fake.set('web', 'a');
    const clock = new ManualClock();
    const runs: Array<{ aborted: boolean }> = [];
    let waiting = 0;
    const controller = new Controller(ConfigMap, {
      informers: fake.factory,
      queue: { clock },
      reconcile: async ({ signal }) => {
        const run = { aborted: signal.aborted };
        runs.push(run);
        if (runs.length === 1) return { requeueAfterMs: 100 };
        // A reconcile that stops when told to (its signal): must not outlive the controller.
        waiting += 1;
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => resolve(), { once: true });
          setTimeout(resolve, 2000);
        });
        run.aborted = signal.aborted;
        return undefined;
      },
    });
    const stop = new AbortController();
    const done = controller.run({ signal: stop.signal, drainTimeoutMs: 5000 });
    await until('the first reconcile and its requeue', () => runs.length === 1 && clock.pendingTimers === 1);
    await new Promise((r) => setTimeout(r, 20)); // the worker waits in get()
    clock.advance(100); // the requeue fires: the key is handed to the waiting worker…
    stop.abort(); // …and the controller stops before the worker resumes
    const startedAt = Date.now();
    await done;
    // Either the key never started, or its reconcile was told to stop (and so ended at once).
    for (const run of runs.slice(1)) expect(run.aborted).toBe(true);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(waiting).toBeLessThanOrEqual(1);
  });

  it('an onError that throws neither kills a worker nor leaves an unhandled rejection', async () => {
    const fake = new FakeInformers();
    fake.set('web', 'bad');
    const seen: string[] = [];
    const controller = new Controller(ConfigMap, {
      informers: fake.factory,
      concurrency: 1,
      queue: { backoff: { baseMs: 60_000, maxMs: 60_000 } },
      onError: () => {
        throw new Error('a broken error handler');
      },
      reconcile: ({ name, object, recorder }) => {
        seen.push(name);
        // No cluster behind the fake: recording fails, and so reaches the throwing onError too.
        if (object) recorder.event(object, { type: 'Normal', reason: 'Seen', action: 'Reconcile' });
        if (name === 'bad') throw new Error('reconcile failed');
        return undefined;
      },
    });
    const stop = new AbortController();
    const done = controller.run({ signal: stop.signal });
    await until('bad reconciled', () => seen.includes('bad'));
    fake.set('web', 'good');
    await until('good reconciled after the throwing onError', () => seen.includes('good'), 2000).finally(() => stop.abort());
    await done;
  });

  it('a reconcile ended by the stop (it honours its signal) is no failure: no onError, run() resolves', async () => {
    const fake = new FakeInformers();
    fake.set('web', 'a');
    fake.set('web', 'b');
    const errors: Array<[unknown, string]> = [];
    let running = 0;
    const controller = new Controller(ConfigMap, {
      informers: fake.factory,
      concurrency: 2,
      onError: (error, key) => errors.push([error, key]),
      reconcile: ({ signal }) =>
        new Promise<undefined>((_, reject) => {
          running += 1;
          // As a reconcile should: it gives up when told to, with the signal's reason.
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    });
    const stop = new AbortController();
    const done = controller.run({ signal: stop.signal, drainTimeoutMs: 2000 });
    await until('both reconciles running', () => running === 2);
    stop.abort(new Error('shutting down'));
    await done;
    expect(errors).toEqual([]);
  });
});
