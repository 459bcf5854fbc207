// On kube-apiserver 1.36 with ShardedListAndWatch: a LIST's shardSelector picks exactly what uidHash/inRanges pick;
// without the gate it echoes no shardInfo and returns everything (so a client must filter itself).
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane } from '@kwatch/testenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evenRanges, HASH_SPACE, type HashRange, inRanges, KubeClient, readKubeconfig, shardSelector } from '../src/index.ts';
import { cp } from './helpers.ts';

type List = { metadata?: { shardInfo?: { selector?: string } }; items: Array<{ metadata: { uid: string } }> };

async function populate(kubeConfig: typeof cp.kubeConfig, namespace: string, n: number): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const uids: string[] = [];
  for (let i = 0; i < n; i++) {
    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` } } });
    uids.push(cm.metadata?.uid ?? '');
  }
  return uids;
}

describe('shardSelector on a real apiserver', () => {
  it('with ShardedListAndWatch: a list selects exactly the objects inRanges selects', async () => {
    await using gated = await startControlPlane({ featureGates: { ShardedListAndWatch: true } });
    const uids = await populate(gated.kubeConfig, 'sharded', 60);
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: gated.kubeconfigPath }) });
    const list = (ranges: HashRange[]) =>
      client.request<List>({
        path: '/api/v1/namespaces/sharded/configmaps',
        query: new URLSearchParams({ shardSelector: shardSelector(ranges) as string }),
        signal: AbortSignal.timeout(10_000),
      });
    // Random sets of ranges (bounds anywhere in the space, up to 2^64 itself).
    const bound = fc.bigInt({ min: 0n, max: HASH_SPACE });
    const ranges = fc.array(
      // Non-empty: kube-apiserver refuses an empty shardRange (start must be less than end) with a 500.
      fc
        .tuple(bound, bound)
        .filter(([a, b]) => a !== b)
        .map(([a, b]) => (a < b ? { start: a, end: b } : { start: b, end: a })),
      {
        minLength: 1,
        maxLength: 4,
      },
    );
    await fc.assert(
      fc.asyncProperty(ranges, async (rs) => {
        const got = await list(rs);
        expect(got.metadata?.shardInfo?.selector).toBeDefined(); // the server honoured it
        expect(got.items.map((i) => i.metadata.uid).sort()).toEqual(uids.filter((u) => inRanges(u, rs)).sort());
      }),
      { numRuns: 25 },
    );
    // Each of 3 even shards gets its own objects, and together all of them, once.
    const shards = await Promise.all(evenRanges(3).map((r) => list([r])));
    expect(shards.flatMap((s) => s.items.map((i) => i.metadata.uid)).sort()).toEqual([...uids].sort());
  }, 120_000);

  it('without the gate: no shardInfo, every object (the client must filter)', async () => {
    const ns = `unsharded-${Date.now().toString(36)}`;
    const uids = await populate(cp.kubeConfig, ns, 10);
    const client = new KubeClient({ kubeConfig: readKubeconfig({ path: cp.kubeconfigPath }) });
    const got = await client.request<List>({
      path: `/api/v1/namespaces/${ns}/configmaps`,
      query: new URLSearchParams({ shardSelector: shardSelector(evenRanges(2).slice(0, 1)) as string }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(got.metadata?.shardInfo).toBeUndefined();
    expect(got.items.length).toBe(uids.length);
  });
});
