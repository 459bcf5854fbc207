// The range-set operations of the sharding layer against a brute-force model over a small universe of hashes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intersect, normalize, sameRanges, subtract, union } from '../src/sharding/rangeSet.ts';

const N = 40n;
const range = fc.tuple(fc.bigInt({ min: 0n, max: N }), fc.bigInt({ min: 0n, max: N })).map(([a, b]) => ({ start: a, end: b }));
const ranges = fc.array(range, { maxLength: 6 });
type R = { start: bigint; end: bigint };
const members = (rs: readonly R[]): Set<bigint> => {
  const s = new Set<bigint>();
  for (const r of rs) for (let h = r.start; h < r.end; h++) s.add(h);
  return s;
};
const canonical = (rs: readonly R[]) => rs.every((r, i) => r.start < r.end && (i === 0 || (rs[i - 1] as R).end < r.start));

describe('range sets', () => {
  it('union, intersect and subtract hold exactly the hashes of the model, in canonical form', () => {
    fc.assert(
      fc.property(ranges, ranges, (a, b) => {
        const [x, y] = [members(a), members(b)];
        const cases: Array<[R[], (h: bigint) => boolean]> = [
          [union(a, b), (h) => x.has(h) || y.has(h)],
          [intersect(a, b), (h) => x.has(h) && y.has(h)],
          [subtract(a, b), (h) => x.has(h) && !y.has(h)],
          [normalize(a), (h) => x.has(h)],
        ];
        for (const [got, model] of cases) {
          expect(canonical(got)).toBe(true);
          for (let h = 0n; h <= N; h++) expect(members(got).has(h)).toBe(model(h));
        }
        expect(sameRanges(a, b)).toBe([...x].sort().join() === [...y].sort().join());
      }),
      { numRuns: 500 },
    );
  });
});
