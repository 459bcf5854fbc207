// MultiplexingWatcher's options: one declaration, checked and defaulted (DEFAULTS.multiplexer) in one resolver.
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, KwatchError, MultiplexingWatcher, systemClock, Watcher } from '../src/index.ts';
import { resolveMultiplexingWatcherOptions } from '../src/multiplex/multiplexer.ts';

function refusal(options: unknown): unknown {
  try {
    new MultiplexingWatcher(options as never);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('MultiplexingWatcher options', () => {
  it.each([
    [{ connectConcurrency: 0 }, 'Expected `connectConcurrency` to be a positive integer, got 0'],
    [{ connectConcurrency: 1.5 }, 'Expected `connectConcurrency` to be a positive integer, got 1.5'],
    [{ connectConcurrency: '4' }, 'Expected `connectConcurrency` to be a positive integer, got "4"'],
    [{ bufferSize: -1 }, 'Expected `bufferSize` to be a positive integer, got -1'],
    [{ bufferSize: Number.POSITIVE_INFINITY }, 'Expected `bufferSize` to be a positive integer, got Infinity'],
    [{ exceptionCallback: true }, 'Expected `exceptionCallback` to be a function, got true'],
    [{ onCulled: 'log' }, 'Expected `onCulled` to be a function, got "log"'],
    [{ watchers: 'pods' }, 'Expected `watchers` to be an array of Watchers, got "pods"'],
    [{ watchers: [{ target: {} }] }, 'Expected `watchers.0` to be a Watcher, got an object (Object)'],
    [{ restartBackoff: { initialMs: 0 } }, 'Expected `restartBackoff.initialMs` to be a positive number of milliseconds, got 0'],
    [{ restartBackoff: { initial: 5 } }, 'Unknown option `initial` in `restartBackoff`'],
    [{ clock: Date }, 'Expected `clock` to be a Clock, got a function'],
    [{ buffersize: 64 }, 'Unknown option `buffersize`'],
    [7, 'Expected the MultiplexingWatcher options to be an object, got 7'],
  ])('%o is an INVALID_OPTION naming it', (options, message) => {
    const error = refusal(options);
    expect(error).toBeInstanceOf(KwatchError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it('applies DEFAULTS.multiplexer (connectConcurrency 4, bufferSize 256) and the system clock', () => {
    expect(DEFAULTS.multiplexer).toEqual({ connectConcurrency: 4, bufferSize: 256 });
    expect(resolveMultiplexingWatcherOptions(undefined)).toEqual({
      watchers: [],
      exceptionCallback: undefined,
      connectConcurrency: DEFAULTS.multiplexer.connectConcurrency,
      bufferSize: DEFAULTS.multiplexer.bufferSize,
      restartBackoff: undefined, // Backoff applies DEFAULTS.backoff
      onCulled: undefined,
      clock: systemClock,
    });
    const clock = new ManualClock();
    expect(resolveMultiplexingWatcherOptions({ connectConcurrency: 2, bufferSize: 8, clock })).toMatchObject({
      connectConcurrency: 2,
      bufferSize: 8,
      clock,
    });
  });

  it('takes its watchers, and no options at all; undefined stands for not given', () => {
    const w = new Watcher(ConfigMap, { namespace: 'ns' });
    expect(new MultiplexingWatcher({ watchers: [w] }).watchers()).toEqual([w]);
    expect(new MultiplexingWatcher().watchers()).toEqual([]);
    expect(() => new MultiplexingWatcher({ bufferSize: undefined, exceptionCallback: undefined } as never)).not.toThrow();
  });
});
