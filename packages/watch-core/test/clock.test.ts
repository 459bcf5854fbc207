// The injectable clock: sleep() on any Clock ends at its time or at once on abort, leaving no timer or listener.
import { getEventListeners } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from '../src/internal/clock.ts';

describe('sleep', () => {
  it('resolves true once the time has passed on the clock it is given', async () => {
    const clock = new ManualClock();
    let result: boolean | undefined;
    const sleeping = sleep(1_000, new AbortController().signal, clock).then((r) => (result = r));
    clock.advance(999);
    await turn();
    expect(result).toBeUndefined();
    clock.advance(1);
    await sleeping;
    expect(result).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an abort ends it at once with false, clearing its timer; no abort listener is left either way', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal, clock);
    expect([clock.pendingTimers, getEventListeners(controller.signal, 'abort').length]).toEqual([1, 1]);
    controller.abort();
    expect(await sleeping).toBe(false);
    expect([clock.pendingTimers, getEventListeners(controller.signal, 'abort').length]).toEqual([0, 0]);
    const other = new AbortController();
    const full = sleep(10, other.signal, clock);
    clock.advance(10);
    expect(await full).toBe(true);
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });

  it('an already-aborted signal resolves false at once and arms no timer', async () => {
    const clock = new ManualClock();
    expect(await sleep(1_000, AbortSignal.abort(), clock)).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('systemClock', () => {
  it('is Date.now, and timers that keep the process alive (a watcher backing off is still working)', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const handle = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(true);
    systemClock.clearTimeout(handle);
    expect(await sleep(1, new AbortController().signal)).toBe(true);
  });
});
