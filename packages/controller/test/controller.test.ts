// Controller options: a bad one is an INVALID_OPTION naming it, before anything is watched.
import { ConfigMap } from '@kwatch/models/v1';
import { KwatchError } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { Controller, TerminalError } from '../src/index.ts';
import { FakeInformers } from './fakeInformers.ts';

const reconcile = () => undefined;

describe('Controller options', () => {
  it.each([
    [{ reconcile, concurrency: 0 }, 'Expected `concurrency` to be a positive integer, got 0'],
    [{ reconcile, concurrency: 1.5 }, 'Expected `concurrency` to be a positive integer, got 1.5'],
    [{ reconcile, reconcileTimeoutMs: -1 }, 'Expected `reconcileTimeoutMs` to be a positive number, got -1'],
    [{ reconcile, reconcileTimeoutMs: Number.NaN }, 'Expected `reconcileTimeoutMs` to be a positive number, got NaN'],
    [{ reconcile: 'x' }, 'Expected `reconcile` to be a function'],
    [{ reconcile, readYourWritesTimeoutMs: -1 }, 'Expected `readYourWritesTimeoutMs` to be a non-negative number, got -1'],
    [{ reconcile, finalizer: { name: '', cleanup: () => {} } }, 'Expected `finalizer.name` to be a finalizer name'],
    [{ reconcile, finalizer: { name: 'example.com/x' } }, 'Expected `finalizer.cleanup` to be a function'],
    [{ reconcile, queue: { backoff: { baseMs: Number.NaN } } }, 'Expected `backoff.baseMs` to be a positive number, got NaN'],
  ])('%o is refused', (options, message) => {
    const make = () => new Controller(ConfigMap, options as never);
    expect(make).toThrow(KwatchError);
    expect(make).toThrow(message);
  });

  it('run() refuses a bad drainTimeoutMs before it watches anything', async () => {
    const controller = new Controller(ConfigMap, { reconcile, informers: new FakeInformers().factory });
    await expect(controller.run({ drainTimeoutMs: Number.NaN })).rejects.toThrow(
      'Expected `drainTimeoutMs` to be a non-negative number, got NaN',
    );
  });

  it('TerminalError is an Error named TerminalError that keeps its cause', () => {
    const cause = new Error('root');
    const e = new TerminalError('give up', { cause });
    expect([e instanceof Error, e.name, e.message, e.cause]).toEqual([true, 'TerminalError', 'give up', cause]);
  });
});
