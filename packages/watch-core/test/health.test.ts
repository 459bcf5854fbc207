// healthOf(): a watcher's health derived from its state (or how its last stream ended) and its memory.
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { errorFor } from '../src/internal/errors.ts';
import { healthOf } from '../src/watch/health.ts';
import { KnownObjects } from '../src/watch/knownObjects.ts';
import type { Memory, State } from '../src/watch/machine.ts';
import { Pacer } from '../src/watch/pacer.ts';

function memory(): Memory {
  return {
    position: { resourceVersion: '42', sync: undefined },
    known: new KnownObjects(),
    pacer: new Pacer(new ManualClock()),
    watchListUnsupported: false,
    counters: { connects: 3, reconnects: 2, relists: 1, lastEventAt: 1_000 },
    lastError: undefined,
  };
}

describe('healthOf', () => {
  it('names the state: each machine state, a watch still syncing as listing, and how the last stream ended', () => {
    const m = memory();
    const states: Array<[State | 'idle' | 'stopped' | 'failed', string]> = [
      [{ kind: 'start' }, 'connecting'],
      [{ kind: 'list', sync: {}, continueToken: undefined, free: false } as unknown as State, 'listing'],
      [{ kind: 'connect', rv: '42', sync: undefined }, 'connecting'],
      [{ kind: 'watch', sync: undefined } as unknown as State, 'watching'],
      [{ kind: 'watch', sync: {} } as unknown as State, 'listing'],
      [{ kind: 'backoff', delayMs: 800, next: { kind: 'start' } }, 'backoff'],
      [{ kind: 'fatal', error: errorFor('FORBIDDEN', 'no', { httpStatus: 403 }) }, 'failed'],
      [{ kind: 'done' }, 'stopped'],
      ['idle', 'idle'],
      ['stopped', 'stopped'],
      ['failed', 'failed'],
    ];
    expect(states.map(([s]) => healthOf(s, m).state)).toEqual(states.map(([, name]) => name));
  });

  it('reports the memory: counters, the request budget’s counts, and the resourceVersion taken (none while syncing)', async () => {
    const m = memory();
    await m.pacer.admit(new AbortController().signal);
    m.pacer.failure();
    m.pacer.failure();
    expect(healthOf('idle', m)).toEqual({
      state: 'idle',
      lastEventAt: 1_000,
      resourceVersion: '42',
      reconnects: 2,
      relists: 1,
      consecutiveErrors: 2,
      requests: 1,
      lastError: undefined,
    });
    m.position = { resourceVersion: '42', sync: {} as never };
    expect(healthOf('idle', m).resourceVersion).toBeUndefined();
  });

  it('shows the last error by code and message only (never its cause, which may hold a request)', () => {
    const m = memory();
    m.lastError = errorFor('FORBIDDEN', 'pods is forbidden', { httpStatus: 403, cause: new Error('GET /api/v1/pods') });
    expect(healthOf('failed', m).lastError).toStrictEqual({ code: 'FORBIDDEN', message: 'pods is forbidden' });
  });
});
