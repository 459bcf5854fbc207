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

describe('ShardRing', () => {
  it('three replicas agree on the members and split the space; a leave and a crash are seen in time', async () => {
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
    const [a, b, c] = [ring('a'), ring('b'), ring('c')];
    await Promise.all([a.start(), b.start(), c.start()]);
    const agree = (...rs: ShardRing[]) => rs.every((r) => r.members().join() === rs[0]?.members().join());
    await until('all three see a, b, c', () => agree(a, b, c) && a.members().join() === 'a,b,c', 5000);
    // Each sees the same split, and the three parts make the whole space.
    for (const r of [b, c]) for (const m of ['a', 'b', 'c']) expect(r.rangesOf(m)).toEqual(a.rangesOf(m));
    expect(size(a.ranges()) + size(b.ranges()) + size(c.ranges())).toBe(HASH_SPACE);

    await b.stop(); // a clean leave: its Lease is deleted
    await until('a and c see b leave', () => agree(a, c) && a.members().join() === 'a,c', 2000);
    expect(size(a.ranges()) + size(c.ranges())).toBe(HASH_SPACE);
    expect(b.ranges()).toEqual([]);

    const crashedAt = Date.now();
    await c.stop({ crash: true }); // dies: its Lease stays, unrenewed
    await until('a drops the crashed c', () => a.members().join() === 'a', 5000);
    const tookMs = Date.now() - crashedAt;
    expect(tookMs).toBeGreaterThanOrEqual(1500); // not before the lease duration (2 s, less one renew interval)…
    expect(tookMs).toBeLessThan(2000 + 2 * 200 + 500); // …and soon after it
    expect(a.ranges()).toEqual([{ start: 0n, end: HASH_SPACE }]);
    await a.stop();
    expect(changes.some((l) => l.startsWith('a: a,b,c'))).toBe(true);
  }, 30_000);
});
