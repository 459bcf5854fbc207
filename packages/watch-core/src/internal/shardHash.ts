// Shards of a collection by uid hash: KEP-5866's FNV-1a of metadata.uid, hash ranges, and the shardSelector for them.

/**
 * A range of 64-bit uid hashes, `[start, end)`; `end` may be 2⁶⁴ (the whole top of the space).
 *
 * @example
 * ```ts
 * const lowerHalf: HashRange = { start: 0n, end: 1n << 63n };
 * ```
 */
export interface HashRange {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * 2⁶⁴: the end of the hash space.
 *
 * @example
 * ```ts
 * const all: HashRange = { start: 0n, end: HASH_SPACE };
 * ```
 */
export const HASH_SPACE = 1n << 64n;

const encoder = new TextEncoder();

/**
 * The 64-bit FNV-1a hash of `uid`'s UTF-8 bytes: what kube-apiserver 1.36's `shardRange(object.metadata.uid, …)`
 * compares (checked against a real apiserver in `shardHash.int.test.ts`). Computed on 32-bit halves, one BigInt at
 * the end.
 *
 * @example
 * ```ts
 * uidHash('58aa135f-c54e-42fd-948f-a0371695ef58'); // a bigint in [0, 2^64)
 * ```
 */
export function uidHash(uid: string): bigint {
  // FNV-1a 64: h = (h ^ byte) * 0x100000001b3 mod 2^64, from 0xcbf29ce484222325; the prime is 2^40 + 0x1b3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const bytes = encoder.encode(uid);
  for (let i = 0; i < bytes.length; i++) {
    lo ^= bytes[i] as number;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64 = lo·0x1b3 + 2^32·(hi·0x1b3 + (lo << 8)) mod 2^64
    const loProduct = (lo & 0xffff) * 0x1b3;
    const loHigh = (lo >>> 16) * 0x1b3 + (loProduct >>> 16);
    const newLo = ((loHigh & 0xffff) << 16) | (loProduct & 0xffff);
    const carry = loHigh >>> 16;
    hi = (Math.imul(hi, 0x1b3) + ((lo << 8) >>> 0) + carry) >>> 0;
    lo = newLo >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Whether an object with `uid` falls in one of `ranges`.
 *
 * @example
 * ```ts
 * inRanges(object.metadata.uid, [{ start: 0n, end: 1n << 63n }]); // the lower half
 * ```
 */
export function inRanges(uid: string | undefined, ranges: readonly HashRange[]): boolean {
  if (uid === undefined) return false;
  const h = uidHash(uid);
  for (const r of ranges) if (h >= r.start && h < r.end) return true;
  return false;
}

const hex = (n: bigint): string => `0x${n.toString(16).padStart(16, '0')}`;

/**
 * The `shardSelector` query parameter for `ranges` (KEP-5866, kube-apiserver ≥ 1.36 with `ShardedListAndWatch`):
 * `shardRange(object.metadata.uid,'0x…','0x…')`, several joined with `||`. An empty range (`start >= end`) selects
 * nothing and is left out (the apiserver answers one with a 500); `undefined` when no range is left — nothing to ask,
 * which is not "everything": a caller must not send the request unfiltered.
 *
 * @example
 * ```ts
 * shardSelector([{ start: 0n, end: 1n << 63n }]); // "shardRange(object.metadata.uid,'0x0000000000000000','0x8000000000000000')"
 * ```
 */
export function shardSelector(ranges: readonly HashRange[]): string | undefined {
  const parts: string[] = [];
  for (const r of ranges) if (r.start < r.end) parts.push(`shardRange(object.metadata.uid,'${hex(r.start)}','${hex(r.end)}')`);
  return parts.length === 0 ? undefined : parts.join('||');
}

/**
 * `count` equal ranges covering the hash space, the i-th of which is `[i·2⁶⁴/count, (i+1)·2⁶⁴/count)`.
 *
 * @example
 * ```ts
 * evenRanges(4)[1]; // { start: 0x4000000000000000n, end: 0x8000000000000000n }
 * ```
 */
export function evenRanges(count: number): HashRange[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`Expected a positive integer count, got ${count}`);
  const n = BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    start: (BigInt(i) * HASH_SPACE) / n,
    end: (BigInt(i + 1) * HASH_SPACE) / n,
  }));
}
