import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachControlPlane, startFaultProxy } from '@kwatch/testenv';
import { describe, expect, inject, it } from 'vitest';
import { type LeaderElectionOptions, LeaderElector } from '../src/index.ts';

const cp = attachControlPlane(inject('kwatchTestenvState'));

it('3 candidates: never two leaders at once; failover within the lease duration when the leader is killed or stops', async () => {
  const name = `lease-${randomBytes(3).toString('hex')}`;
  const intervals: Array<{ who: string; start: number; end?: number }> = [];
  const electors = ['a', 'b', 'c'].map(
    (who) =>
      new LeaderElector({
        kubeConfig: cp.kubeConfig,
        namespace: 'default',
        name,
        identity: who,
        leaseDurationSeconds: 2,
        renewDeadlineSeconds: 1.5,
        retryPeriodSeconds: 0.25,
        onStartedLeading: () => intervals.push({ who, start: Date.now() }),
        onStoppedLeading: () => {
          const open = intervals.findLast((i) => i.who === who && i.end === undefined);
          if (open) open.end = Date.now();
        },
      }),
  );
  let maxLeaders = 0;
  const sampler = setInterval(() => {
    maxLeaders = Math.max(maxLeaders, electors.filter((e) => e.isLeader).length);
  }, 20);
  const leader = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leaders = electors.filter((e) => e.isLeader);
      if (leaders.length === 1) return leaders[0] as LeaderElector;
      await sleep(20);
    }
    throw new Error('no leader');
  };
  try {
    for (const e of electors) void e.run();
    const first = await leader(5_000);
    await sleep(2_000); // a few renewals: the leadership holds
    expect(first.isLeader).toBe(true);

    // Kill the leader: it stops renewing and does not release.
    const killedAt = Date.now();
    await first.stop({ release: false });
    const second = await leader(5_000);
    const failoverMs = Date.now() - killedAt;
    expect(second).not.toBe(first);
    expect(failoverMs).toBeLessThan(2_000 + 1_000); // the lease duration, plus retry periods
    expect(failoverMs).toBeGreaterThanOrEqual(1_500); // it did wait for the lease to expire

    // Stop the next leader cleanly: it releases, the last candidate takes over at once.
    const stoppedAt = Date.now();
    await second.stop();
    const third = await leader(5_000);
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(third).not.toBe(second);
    await third.stop();
  } finally {
    clearInterval(sampler);
    for (const e of electors) await e.stop();
  }
  expect(maxLeaders).toBe(1);
  expect(intervals.map((i) => i.who)).toHaveLength(3);
  const sorted = [...intervals].sort((x, y) => x.start - y.start);
  for (let i = 1; i < sorted.length; i++)
    expect(sorted[i]!.start).toBeGreaterThanOrEqual(sorted[i - 1]!.end ?? Number.POSITIVE_INFINITY);
}, 60_000);

it('a leader process killed with SIGKILL is replaced within the lease duration, never overlapping', async () => {
  const name = `lease-${randomBytes(3).toString('hex')}`;
  const child = spawn(
    process.execPath,
    ['--conditions=@kwatch/source', join(import.meta.dirname, 'fixtures/candidate.ts'), cp.kubeconfigPath, name, 'doomed'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const childLeading = new Promise<number>((resolve) =>
    child.stdout?.on('data', (d: Buffer) => resolve(Number(/leading (\d+)/.exec(d.toString())?.[1]))),
  );
  await childLeading;
  let takeover = 0;
  const survivor = new LeaderElector({
    kubeConfig: cp.kubeConfig,
    namespace: 'default',
    name,
    identity: 'survivor',
    leaseDurationSeconds: 2,
    renewDeadlineSeconds: 1.5,
    retryPeriodSeconds: 0.25,
    onStartedLeading: () => {
      takeover = Date.now();
    },
  });
  void survivor.run();
  await sleep(1_000);
  expect(survivor.isLeader).toBe(false); // the child holds the lease
  const killedAt = Date.now();
  child.kill('SIGKILL');
  while (!survivor.isLeader && Date.now() - killedAt < 5_000) await sleep(20);
  await survivor.stop();
  expect(takeover).toBeGreaterThanOrEqual(killedAt);
  expect(takeover - killedAt).toBeLessThan(3_000);
}, 30_000);

describe('against a stalled apiserver (through the fault proxy)', () => {
  const electorVia = (kubeConfig: LeaderElectionOptions['kubeConfig'], name: string) =>
    new LeaderElector({
      kubeConfig,
      namespace: 'default',
      name,
      identity: 'stalled',
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 1.5,
      retryPeriodSeconds: 0.25,
    });
  const leading = async (e: LeaderElector) => {
    const deadline = Date.now() + 5_000;
    while (!e.isLeader && Date.now() < deadline) await sleep(20);
    expect(e.isLeader).toBe(true);
  };

  it('stop() of a leader returns within 1 s while its renewal hangs', async () => {
    const proxy = await startFaultProxy(cp);
    const elector = electorVia(proxy.kubeConfig('admin-token'), `lease-${randomBytes(3).toString('hex')}`);
    try {
      void elector.run();
      await leading(elector);
      proxy.stallRequests('/leases');
      while (proxy.heldRequests === 0) await sleep(10); // a renewal is in flight, and will never be answered
      const t0 = Date.now();
      const outcome = await Promise.race([elector.stop().then(() => 'stopped'), sleep(5_000).then(() => 'hung')]);
      expect(outcome).toBe('stopped');
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(elector.isLeader).toBe(false);
    } finally {
      await elector.stop({ release: false, releaseTimeoutMs: 0 });
      await proxy.stop();
    }
  }, 30_000);

  it('a leader whose renewals hang steps down within the renew deadline, before its lease can expire', async () => {
    const proxy = await startFaultProxy(cp);
    let stoppedAt = 0;
    const elector = new LeaderElector({
      kubeConfig: proxy.kubeConfig('admin-token'),
      namespace: 'default',
      name: `lease-${randomBytes(3).toString('hex')}`,
      leaseDurationSeconds: 2,
      renewDeadlineSeconds: 1.5,
      retryPeriodSeconds: 0.25,
      onStoppedLeading: () => {
        stoppedAt = Date.now();
      },
    });
    try {
      void elector.run();
      await leading(elector);
      await sleep(300); // a renewal succeeded just now, or a moment ago
      const stalledAt = Date.now();
      proxy.stallRequests('/leases');
      while (!stoppedAt && Date.now() - stalledAt < 5_000) await sleep(20);
      expect(stoppedAt).toBeGreaterThan(0);
      expect(stoppedAt - stalledAt).toBeLessThan(2_000); // the lease (2 s) has not expired for anyone else yet
    } finally {
      await elector.stop({ release: false, releaseTimeoutMs: 0 });
      await proxy.stop();
    }
  }, 30_000);
});
