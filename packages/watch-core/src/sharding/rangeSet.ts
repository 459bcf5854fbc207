// Sets of uid-hash ranges as sorted, disjoint, non-adjacent lists: union, difference, intersection, equality.
import type { HashRange } from '../internal/index.ts';

/** The larger of two bigints (Math.max takes numbers only). */
function larger(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

/** The smaller of two bigints. */
function smaller(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

/** `ranges` sorted, with overlapping and adjacent ranges joined and empty ones dropped. */
export function normalize(ranges: readonly HashRange[]): HashRange[] {
  const sorted = ranges.filter((r) => r.start < r.end).sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const out: HashRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) {
      if (r.end > last.end) out[out.length - 1] = { start: last.start, end: r.end };
    } else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** The hashes in `a` or in `b`. */
export function union(a: readonly HashRange[], b: readonly HashRange[]): HashRange[] {
  return normalize([...a, ...b]);
}

/** The hashes in both `a` and `b`. */
export function intersect(a: readonly HashRange[], b: readonly HashRange[]): HashRange[] {
  const x = normalize(a);
  const y = normalize(b);
  const out: HashRange[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as HashRange;
    const q = y[j] as HashRange;
    const start = larger(p.start, q.start);
    const end = smaller(p.end, q.end);
    if (start < end) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

/** The hashes in `a` and not in `b`. */
export function subtract(a: readonly HashRange[], b: readonly HashRange[]): HashRange[] {
  const cut = normalize(b);
  const out: HashRange[] = [];
  for (const r of normalize(a)) {
    let start = r.start;
    for (const c of cut) {
      if (c.end <= start || c.start >= r.end) continue;
      if (c.start > start) out.push({ start, end: c.start });
      start = larger(c.end, start);
      if (start >= r.end) break;
    }
    if (start < r.end) out.push({ start, end: r.end });
  }
  return out;
}

/** Whether `a` and `b` hold the same hashes. */
export function sameRanges(a: readonly HashRange[], b: readonly HashRange[]): boolean {
  const x = normalize(a);
  const y = normalize(b);
  return x.length === y.length && x.every((r, i) => r.start === y[i]?.start && r.end === y[i]?.end);
}
