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
    const shares = (members: string[]) => {
      const ring = ringRanges(members, 32);
      return members.map((m) => Number((size(ring.get(m) ?? []) * 10_000n) / HASH_SPACE) / 10_000);
    };
    // Names as replicas get them: similar strings (FNV-1a points clustered these: 62/38/0 %, 5/17/62/17 %).
    for (const members of [
      ['a', 'b', 'c'],
      ['r1', 'r2', 'r3'],
      ['pod-a', 'pod-b', 'pod-c', 'pod-d'],
      ['mirror-0', 'mirror-1', 'mirror-2', 'mirror-3'],
    ]) {
      for (const share of shares(members)) {
        expect(share).toBeGreaterThan(0.6 / members.length);
        expect(share).toBeLessThan(1.4 / members.length);
      }
    }
    // Over many sets of 4 StatefulSet-like names, nearly all shares stay within 15-35 % (a random ring: ~97 %).
    let within = 0;
    for (let t = 0; t < 300; t++) {
      const s = shares([0, 1, 2, 3].map((i) => `app-${t.toString(36)}-${i}`));
      if (s.every((x) => x > 0.15 && x < 0.35)) within++;
    }
    expect(within).toBeGreaterThan(280);
    const three = ringRanges(['a', 'b', 'c'], 32);
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
