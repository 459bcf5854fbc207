// Shard hashing: FNV-1a 64 on 32-bit halves against a BigInt reference; ranges and the shardSelector they make.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evenRanges, HASH_SPACE, inRanges, shardSelector, uidHash } from '../src/index.ts';

/** FNV-1a 64 the obvious way, in BigInt: the reference. */
function reference(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & (HASH_SPACE - 1n);
  return h;
}

describe('uid hashing and ranges', () => {
  it('uidHash is FNV-1a 64 of the UTF-8 bytes (known vectors, and any string against the reference)', () => {
    expect(uidHash('')).toBe(0xcbf29ce484222325n);
    expect(uidHash('a')).toBe(0xaf63dc4c8601ec8cn); // FNV-1a 64 test vector
    expect(uidHash('foobar')).toBe(0x85944171f73967e8n);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => uidHash(s) === reference(s)),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uuid(), (u) => uidHash(u) === reference(u)),
      { numRuns: 5000 },
    );
  });

  it('evenRanges tile the space; every uid is in exactly one', () => {
    for (const n of [1, 2, 3, 5, 7, 64]) {
      const ranges = evenRanges(n);
      expect(ranges[0]?.start).toBe(0n);
      expect(ranges.at(-1)?.end).toBe(HASH_SPACE);
      for (let i = 1; i < n; i++) expect(ranges[i]?.start).toBe(ranges[i - 1]?.end);
      fc.assert(
        fc.property(fc.uuid(), (u) => ranges.filter((r) => inRanges(u, [r])).length === 1),
        { numRuns: 300 },
      );
    }
    expect(() => evenRanges(0)).toThrow(RangeError);
    expect(inRanges(undefined, evenRanges(1))).toBe(false);
  });

  it('shardSelector writes the ranges as the apiserver reads them', () => {
    expect(shardSelector([])).toBeUndefined();
    // Empty ranges select nothing and the apiserver refuses them (500): left out, and none left is no selector.
    expect(
      shardSelector([
        { start: 5n, end: 5n },
        { start: 9n, end: 3n },
      ]),
    ).toBeUndefined();
    expect(shardSelector([{ start: 5n, end: 5n }, ...evenRanges(2)])).toBe(shardSelector(evenRanges(2)));
    expect(shardSelector(evenRanges(2))).toBe(
      "shardRange(object.metadata.uid,'0x0000000000000000','0x8000000000000000')||shardRange(object.metadata.uid,'0x8000000000000000','0x10000000000000000')",
    );
  });
});
