/** Order statistics for the benchmarks. */

/** The `q`-quantile (0…1) of `xs`, nearest rank; NaN for no samples. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** The median (upper median for an even count). */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** p50, p99 and max in ms, rounded to 0.01 ms, and the sample count. */
export function latencySummary(xs: readonly number[]): { p50Ms: number; p99Ms: number; maxMs: number; samples: number } {
  const r = (x: number) => Number(x.toFixed(2));
  return { p50Ms: r(quantile(xs, 0.5)), p99Ms: r(quantile(xs, 0.99)), maxMs: r(quantile(xs, 1)), samples: xs.length };
}
