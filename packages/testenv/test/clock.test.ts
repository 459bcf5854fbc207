// ManualClock: timers in due order, synchronous and async advancing, and waiting for a promise on simulated time.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/index.ts';

/** A task that waits `ms` on the clock `times` times, awaiting a microtask after each wait (as real code does). */
async function ticker(clock: ManualClock, ms: number, times: number, log: number[]): Promise<void> {
  for (let i = 0; i < times; i++) {
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    await Promise.resolve();
    log.push(clock.now());
  }
}

describe('ManualClock', () => {
  it('fires timers in order of due time, then of creation, each at its own due time', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`now@${clock.now()}`), -5); // negative counts as 0
    expect([clock.pendingTimers, clock.nextTimerAt()]).toEqual([4, 1_000]);
    expect(clock.advance(15)).toBe(2);
    expect(clock.now()).toBe(1_015);
    expect(clock.advance(100)).toBe(2);
    expect(fired).toEqual(['now@1000', 'a@1010', 'b@1020', 'c@1020']);
    expect([clock.pendingTimers, clock.nextTimerAt(), clock.now()]).toEqual([0, undefined, 1_115]);
  });

  it('fires timers armed by firing timers when they fall due on the way; never goes back in time', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    expect(clock.advanceTo(20)).toBe(2);
    expect(fired).toEqual([5, 10]);
    expect(clock.advanceTo(3)).toBe(0);
    expect(clock.now()).toBe(20);
  });

  it('clearTimeout disarms (unknown handles are ignored); runNext fires the next due moment or says there is none', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const h = clock.setTimeout(() => fired.push(1), 10);
    clock.setTimeout(() => fired.push(2), 30);
    clock.setTimeout(() => fired.push(3), 30);
    clock.clearTimeout(h);
    clock.clearTimeout('nope');
    expect(clock.runNext()).toBe(true);
    expect([fired, clock.now()]).toEqual([[2, 3], 30]);
    expect(clock.runNext()).toBe(false);
    expect(clock.now()).toBe(30);
  });

  it('its bound methods pass as a plain { now, setTimeout, clearTimeout }', () => {
    const clock = new ManualClock(7);
    const { now, setTimeout, clearTimeout } = clock;
    const h = setTimeout(() => {}, 1);
    expect(now()).toBe(7);
    clearTimeout(h);
    expect(clock.pendingTimers).toBe(0);
  });

  it('advance() fires only what is armed when it is called; advanceAsync() lets async code arm the next timer on the way', async () => {
    const sync = new ManualClock(0);
    const syncLog: number[] = [];
    void ticker(sync, 100, 3, syncLog);
    sync.advance(300);
    await new Promise((resolve) => setImmediate(resolve));
    expect(syncLog).toEqual([300]); // the first wait ended at 100, but the task ran only once time was at 300
    expect(sync.nextTimerAt()).toBe(400);
    const clock = new ManualClock(0);
    const log: number[] = [];
    void ticker(clock, 100, 3, log);
    await clock.advanceAsync(300);
    expect(log).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(300);
  });

  it('runUntilSettled(): true once the promise settles (a rejection too, handled), false when the time runs out first', async () => {
    const clock = new ManualClock(0);
    const log: number[] = [];
    expect(await clock.runUntilSettled(ticker(clock, 1_000, 3, log), 60_000)).toBe(true);
    expect([log, clock.now()]).toEqual([[1_000, 2_000, 3_000], 3_000]);
    const failing = new Promise((_, reject) => clock.setTimeout(() => reject(new Error('boom')), 10));
    expect(await clock.runUntilSettled(failing, 100)).toBe(true);
    await expect(failing).rejects.toThrow('boom');
    expect(await clock.runUntilSettled(ticker(clock, 1_000, 3, []), 2_500)).toBe(false);
    expect(clock.now()).toBe(5_510);
    expect(await clock.runUntilSettled(new Promise(() => {}), 1_000)).toBe(false); // nothing armed: time jumps to the limit
    expect(clock.now()).toBe(6_510);
  });

  it('runUntilSettled() throws when timers keep firing without time passing (a livelock)', async () => {
    const clock = new ManualClock(0);
    const spin = (): void => void Promise.resolve().then(() => clock.setTimeout(spin, 0)); // re-armed a turn later
    spin();
    await expect(clock.runUntilSettled(new Promise(() => {}), 1_000, 1)).rejects.toThrow(/livelock/);
    expect(clock.now()).toBe(0);
  });
});
