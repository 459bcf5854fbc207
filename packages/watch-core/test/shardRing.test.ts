// The consistent-hash ring: its ranges tile the hash space exactly, balance with virtual nodes, and move little on a join.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE, type HashRange, inRanges, KwatchError, ringRanges, ShardRing } from '../src/index.ts';

const size = (rs: readonly HashRange[]) => rs.reduce((a, r) => a + (r.end - r.start), 0n);

describe('ringRanges', () => {
  it('tiles [0, 2^64) exactly: disjoint, complete, sorted, every uid in exactly one member', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.uuid(), { maxLength: 20 }),
        (members, vnodes, uids) => {
          const ring = ringRanges(members, vnodes);
          const all = [...ring.values()].flat().sort((a, b) => (a.start < b.start ? -1 : 1));
          expect(all[0]?.start).toBe(0n);
          expect(all.at(-1)?.end).toBe(HASH_SPACE);
          for (let i = 1; i < all.length; i++) expect(all[i]?.start).toBe(all[i - 1]?.end);
          for (const u of uids) expect(members.filter((m) => inRanges(u, ring.get(m) ?? [])).length).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('balances with 32 virtual nodes, and a join moves only what the newcomer takes', () => {
    const three = ringRanges(['a', 'b', 'c'], 32);
    for (const m of ['a', 'b', 'c']) {
      const share = Number((size(three.get(m) ?? []) * 1000n) / HASH_SPACE) / 1000;
      expect(share).toBeGreaterThan(0.15);
      expect(share).toBeLessThan(0.55);
    }
    const four = ringRanges(['a', 'b', 'c', 'd'], 32);
    // Every hash that changed owner went to the newcomer.
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        const before = ['a', 'b', 'c'].find((m) => inRanges(u, three.get(m) ?? []));
        const after = ['a', 'b', 'c', 'd'].find((m) => inRanges(u, four.get(m) ?? []));
        return before === after || after === 'd';
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses bad options with INVALID_OPTION', () => {
    expect(() => new ShardRing({ name: '', namespace: 'x' })).toThrow(KwatchError);
    expect(() => new ShardRing({ name: 'r', namespace: 'x', leaseDurationMs: 500 })).toThrow(/leaseDurationMs/);
    expect(() => new ShardRing({ name: 'r', namespace: 'x', virtualNodes: 0 })).toThrow(/virtualNodes/);
  });
});
