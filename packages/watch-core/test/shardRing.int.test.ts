// ShardRing on the real control plane: replicas as Leases; joins, a clean leave and a crash change the ring.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE, type HashRange, KubeClient, readKubeconfig, ShardRing } from '../src/index.ts';
import { cp } from './helpers.ts';

const size = (rs: readonly HashRange[]) => rs.reduce((a, r) => a + (r.end - r.start), 0n);

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Samples every replica's owned ranges every 10 ms: any hash owned by two at once is recorded. */
function overlapMonitor(rings: ShardRing[]): { stop: () => void; overlaps: string[] } {
  const overlaps: string[] = [];
  const t = setInterval(() => {
    for (let i = 0; i < rings.length; i++)
      for (let j = i + 1; j < rings.length; j++) {
        const [x, y] = [rings[i] as ShardRing, rings[j] as ShardRing];
        for (const p of x.ranges())
          for (const q of y.ranges())
            if (p.start < q.end && q.start < p.end) overlaps.push(`${x.identity}/${y.identity} at ${Date.now()}`);
      }
  }, 10);
  return { stop: () => clearInterval(t), overlaps };
}

describe('ShardRing', () => {
  it('replicas agree and split the space, never owning a hash twice through joins, a leave and a crash', async () => {
    const namespace = `ring-${randomBytes(3).toString('hex')}`;
    await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath }) });
    const changes: string[] = [];
    const ring = (identity: string) =>
      new ShardRing({
        name: 'mirror',
        namespace,
        identity,
        client,
        leaseDurationMs: 2000,
        renewIntervalMs: 200,
        onChange: (_, members) => changes.push(`${identity}: ${members.join(',')}`),
      });
    const [a, b, c, d] = [ring('a'), ring('b'), ring('c'), ring('d')];
    const monitor = overlapMonitor([a, b, c, d]);
    try {
      const t0 = Date.now();
      await Promise.all([a.start(), b.start(), c.start()]);
      const agree = (...rs: ShardRing[]) => rs.every((r) => r.members().join() === rs[0]?.members().join());
      await until('all three see a, b, c', () => agree(a, b, c) && a.members().join() === 'a,b,c', 5000);
      // Each sees the same split; nothing is owned before the hand-off (3 renew intervals), all of it after.
      for (const r of [b, c]) for (const m of ['a', 'b', 'c']) expect(r.rangesOf(m)).toEqual(a.rangesOf(m));
      if (Date.now() - t0 < 500) expect(size(a.ranges())).toBe(0n);
      await until(
        'the three own the whole space',
        () => size(a.ranges()) + size(b.ranges()) + size(c.ranges()) === HASH_SPACE,
        3000,
      );
      for (const r of [a, b, c]) expect(r.ranges()).toEqual(r.rangesOf(r.identity));

      // d joins: the others let go of what d takes before d owns it.
      await d.start();
      await until(
        'all four own the whole space',
        () =>
          [a, b, c, d].every((r) => r.members().length === 4) &&
          size(d.ranges()) > 0n &&
          size(a.ranges()) + size(b.ranges()) + size(c.ranges()) + size(d.ranges()) === HASH_SPACE,
        5000,
      );
      await d.stop();
      await until(
        'd gone',
        () => size(a.ranges()) + size(b.ranges()) + size(c.ranges()) === HASH_SPACE && a.members().length === 3,
        3000,
      );

      const leftAt = Date.now();
      await b.stop(); // a clean leave: it lets go, then its Lease is deleted
      expect(b.ranges()).toEqual([]);
      await until(
        "a and c own b's part",
        () => agree(a, c) && a.members().join() === 'a,c' && size(a.ranges()) + size(c.ranges()) === HASH_SPACE,
        2000,
      );
      expect(Date.now() - leftAt).toBeLessThan(2 * 200 + 500); // seen at the next renew, owned at once (only a leave)

      const crashedAt = Date.now();
      await c.stop({ crash: true }); // dies: its Lease stays, unrenewed
      await until('a owns everything', () => size(a.ranges()) === HASH_SPACE, 5000);
      const tookMs = Date.now() - crashedAt;
      expect(tookMs).toBeGreaterThanOrEqual(1500); // not before the lease duration (2 s, less one renew interval)…
      expect(tookMs).toBeLessThan(2000 + 2 * 200 + 500); // …and within the documented bound
      expect(a.ranges()).toEqual([{ start: 0n, end: HASH_SPACE }]);
      await a.stop();
      expect(changes.some((l) => l.startsWith('a: a,b,c'))).toBe(true);
      expect(monitor.overlaps).toEqual([]);
    } finally {
      monitor.stop();
      await Promise.all([a, b, c, d].map((r) => r.stop()));
    }
  }, 30_000);
});
