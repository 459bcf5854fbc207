// LeaderElector's options: one declaration, validated and defaulted in resolveLeaderElectionOptions (no cluster needed).
import { KubeClient } from '@kwatch/watch-core';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/defaults.ts';
import { LeaderElector, resolveLeaderElectionOptions } from '../src/leaderElection.ts';

const lease = { namespace: 'ops', name: 'ctl', client: new KubeClient({ kubeConfig: undefined }) };

describe('LeaderElector options', () => {
  it.each([
    [{ namespace: 'ops' }, 'Expected `name` to be a non-empty string, got undefined'],
    [{ ...lease, namespace: '' }, 'Expected `namespace` to be a non-empty string, got ""'],
    [{ ...lease, leaseDurationSeconds: 0 }, 'Expected `leaseDurationSeconds` to be a positive number of seconds, got 0'],
    [{ ...lease, retryPeriodSeconds: '2' }, 'Expected `retryPeriodSeconds` to be a positive number of seconds, got "2"'],
    [
      { ...lease, renewDeadlineSeconds: 15 },
      'Expected `renewDeadlineSeconds` to be less than `leaseDurationSeconds` (15), got 15',
    ],
    [{ ...lease, retryPeriodSeconds: 10 }, 'Expected `retryPeriodSeconds` to be less than `renewDeadlineSeconds` (10), got 10'],
    [{ ...lease, client: {} }, 'Expected `client` to be a KubeClient, got an object (Object)'],
    [{ ...lease, onNewLeader: 'x' }, 'Expected `onNewLeader` to be a function, got "x"'],
    [{ ...lease, leaseDurationMs: 15_000 }, 'Unknown option `leaseDurationMs`'],
  ])('%o is an INVALID_OPTION naming it', (options, message) => {
    expect(() => new LeaderElector(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message }));
  });

  it("applies client-go's defaults from DEFAULTS.leaderElection", () => {
    const o = resolveLeaderElectionOptions(lease);
    expect(o).toMatchObject({ leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
    expect(DEFAULTS.leaderElection).toEqual({
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      release: true,
      releaseTimeoutMs: 500,
    });
    expect(o.client).toBe(lease.client);
    expect(o.identity).toMatch(/^.+-[0-9a-f]{8}$/);
    expect(resolveLeaderElectionOptions({ namespace: 'ops', name: 'ctl' }).client).toBeInstanceOf(KubeClient);
  });

  it('stop() checks its options before it stops anything', async () => {
    const elector = new LeaderElector(lease);
    await expect(elector.stop({ releaseTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'Expected `releaseTimeoutMs` to be a number of milliseconds >= 0, got -1',
    });
    await expect(elector.stop({ releaseTimeout: 5 } as never)).rejects.toMatchObject({
      message: 'Unknown option `releaseTimeout`',
    });
    await elector.stop({ release: false, releaseTimeoutMs: 0 });
  });
});
