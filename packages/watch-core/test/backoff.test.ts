// Backoff: full-jitter exponential delays, their floor and cap, the reset after a quiet period, and Retry-After.
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { Watcher } from '../src/index.ts';
import { Backoff } from '../src/internal/backoff.ts';
import { pullMany, watchersOf, world } from './simWorld.ts';

/** A random source that always draws just under 1: every delay is its cap (less a ms). */
const top = () => 0.999_999;

describe('Backoff', () => {
  it('the cap starts at initialMs and grows by factor per failure, up to maxMs (defaults: 800 ms, x2, 30 s)', () => {
    const b = new Backoff({}, top);
    const delays = Array.from({ length: 8 }, () => b.next(0));
    expect(delays).toEqual([799, 1_599, 3_199, 6_399, 12_799, 25_599, 29_999, 29_999]);
    expect(b.attempts).toBe(8);
    const custom = new Backoff({ initialMs: 100, maxMs: 1_000, factor: 3 }, top);
    expect(Array.from({ length: 4 }, () => custom.next(0))).toEqual([99, 299, 899, 999]);
  });

  it('full jitter: a uniform draw in [0, cap), but never under 10 ms', () => {
    const draws = [0, 0.5, 0.25];
    const b = new Backoff({ initialMs: 1_000 }, () => draws.shift() ?? 0);
    expect([b.next(0), b.next(0), b.next(0)]).toEqual([10, 1_000, 1_000]);
  });

  it('a Retry-After is a floor, itself capped at 5 minutes; a longer jittered delay wins', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 100 }, top);
    expect(b.next(0, 3_000)).toBe(3_000);
    expect(b.next(0, 60 * 60_000)).toBe(5 * 60_000);
    expect(b.next(0, 5)).toBe(99);
  });

  it('a failure after resetAfterMs without one starts from initialMs again; so does reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 10_000, resetAfterMs: 1_000 }, top);
    expect([b.next(0), b.next(500), b.next(1_400)]).toEqual([99, 199, 399]); // 900 ms apart at most: growing
    expect(b.next(2_400)).toBe(99); // 1 s after the last failure: from the start
    expect(b.next(2_500)).toBe(199);
    b.reset();
    expect([b.attempts, b.next(2_600)]).toEqual([0, 99]);
  });
});

describe('Backoff through a Watcher', () => {
  it('a 429 with Retry-After is a floor for the wait before the next request', async () => {
    const { clock, sim } = world(['a']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock, backoff: { initialMs: 10, maxMs: 10 } });
    sim.setModes({ errors: { status: 429, retryAfterSeconds: 3, times: 4 } });
    expect(await pullMany(w.stream(), clock, 1)).toEqual(['ADDED a']);
    const times = watchersOf(sim).map((r) => r.at);
    expect(times).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(3_000);
  });
});
