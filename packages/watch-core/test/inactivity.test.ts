// A watch's inactivity timer: the same deadline as a timer per read, one timer per watch.
import { ManualClock } from '@kwatch/testenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InactivityTimer } from '../src/watch/inactivity.ts';

describe('InactivityTimer', () => {
  it('declares a stall once a read has waited the full time, not before', () => {
    const clock = new ManualClock();
    let stalls = 0;
    const idle = new InactivityTimer(clock, 1000, () => (stalls += 1));
    idle.wait();
    clock.advance(999);
    expect(stalls).toBe(0);
    clock.advance(1);
    expect(stalls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts only time spent waiting: a consumer that pauses between reads never trips it, and no timer is left', () => {
    const clock = new ManualClock();
    let stalls = 0;
    const idle = new InactivityTimer(clock, 1000, () => (stalls += 1));
    idle.wait();
    clock.advance(600);
    idle.arrived();
    clock.advance(5000); // the consumer takes its time
    expect(stalls).toBe(0);
    expect(clock.pendingTimers).toBe(0); // the timer fired once, found no read and was not armed again
    idle.wait();
    clock.advance(999);
    expect(stalls).toBe(0);
    clock.advance(1);
    expect(stalls).toBe(1);
  });

  it('stop() disarms it', () => {
    const clock = new ManualClock();
    let stalls = 0;
    const idle = new InactivityTimer(clock, 1000, () => (stalls += 1));
    idle.wait();
    idle.stop();
    idle.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(stalls).toBe(0);
  });

  it('fires exactly when a timer per read would, for any sequence of reads and pauses (model)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 700 })), { maxLength: 30 }),
        (ms, steps) => {
          const clock = new ManualClock();
          let stalledAt: number | undefined;
          const idle = new InactivityTimer(clock, ms, () => {
            stalledAt ??= clock.now();
          });
          // The model: the first read whose wait reaches `ms` stalls at its start + ms.
          let expected: number | undefined;
          for (const [waitMs, pauseMs] of steps) {
            const start = clock.now();
            idle.wait();
            if (expected === undefined && waitMs >= ms) expected = start + ms;
            clock.advance(waitMs);
            if (stalledAt !== undefined) break;
            idle.arrived();
            clock.advance(pauseMs);
          }
          idle.stop();
          expect(stalledAt).toBe(expected);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
    );
  });
});
