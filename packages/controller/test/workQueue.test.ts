// WorkQueue edges the model does not reach: delays beyond a timer's range on the real clock, bad options.
import { KwatchError } from '@kwatch/watch-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../src/index.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WorkQueue', () => {
  it('a delay beyond 2³¹−1 ms (a month-long requeueAfterMs) arms one timer, not a timer every millisecond', async () => {
    const queue = new WorkQueue<string>();
    const arm = vi.spyOn(globalThis, 'setTimeout');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    try {
      queue.addAfter('a', 30 * 24 * 3_600_000);
      await new Promise<void>((resolve) => setImmediate(resolve));
      const armed = arm.mock.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 50)); // ~50 timers would be armed meanwhile
      expect(arm.mock.calls.length - armed).toBeLessThanOrEqual(1); // only the test's own sleep
      expect(queue.length).toBe(0); // not due
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
      queue.shutDown();
    }
  });

  it.each([
    [{ agingMs: -1 }, 'Expected `agingMs` to be a non-negative number, got -1'],
    [{ agingMs: Number.NaN }, 'Expected `agingMs` to be a non-negative number, got NaN'],
    [{ backoff: { baseMs: 0 } }, 'Expected `backoff.baseMs` to be a positive number, got 0'],
    [{ backoff: { maxMs: Number.POSITIVE_INFINITY } }, 'Expected `backoff.maxMs` to be a positive number, got Infinity'],
    [{ bucket: { qps: 0 } }, 'Expected `bucket.qps` to be a positive number, got 0'],
    [{ bucket: { burst: -5 } }, 'Expected `bucket.burst` to be a positive number, got -5'],
  ])('%o is refused with INVALID_OPTION naming it', (options, message) => {
    const make = () => new WorkQueue<string>(options);
    expect(make).toThrow(KwatchError);
    expect(make).toThrow(message);
  });

  it('a queue without a bucket, with aging 0, takes its defaults otherwise', () => {
    expect(() => new WorkQueue<string>({ bucket: false, agingMs: 0 })).not.toThrow();
  });
});
