// Shard: what a sharded consumer asks of its source of uid-hash ranges (a ShardRing, or fixed ranges).
import { type HashRange, KwatchError } from '../internal/index.ts';
import { normalize } from './rangeSet.ts';

/**
 * The uid-hash ranges a sharded consumer owns, and their changes: what `Watcher`, `InformerFactory` and `Controller`
 * take as `shard`. A {@link ShardRing} is one; an array of ranges is a fixed one.
 *
 * @example
 * ```ts
 * const half: Shard = staticShard([{ start: 0n, end: 1n << 63n }]);
 * new Watcher(ConfigMap, { shard: half });
 * ```
 */
export interface Shard {
  /** The ranges owned at this instant (sorted, disjoint). */
  ranges(): readonly HashRange[];
  /** Calls `listener` after every change of {@link Shard.ranges}; returns the call that unsubscribes. */
  subscribe(listener: () => void): () => void;
  /** Starts whatever keeps the ranges current (a ring joins); idempotent. Optional. */
  start?(): Promise<void>;
  /** Fixed ranges only: a string that is the same for the same ranges (informers share one watch per shard). */
  readonly key?: string;
}

/** What a `shard` option takes: a {@link Shard} (a `ShardRing`), or fixed ranges. */
export type ShardOption = Shard | readonly HashRange[];

/**
 * A shard whose ranges never change (for N fixed replicas: `staticShard([evenRanges(N)[i]])`).
 *
 * @example
 * ```ts
 * new Watcher(ConfigMap, { shard: staticShard([evenRanges(3)[Number(process.env.REPLICA)]]) });
 * ```
 */
export function staticShard(ranges: readonly HashRange[]): Shard {
  const fixed = normalize(ranges);
  const key = fixed.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`).join(',');
  return { ranges: () => fixed, subscribe: () => () => {}, key };
}

/** Whether `value` can be a `shard` option (for the options' rules). */
export function isShardOption(value: unknown): value is ShardOption {
  if (Array.isArray(value)) {
    return value.every((r) => typeof r?.start === 'bigint' && typeof r?.end === 'bigint' && r.start >= 0n && r.start <= r.end);
  }
  const s = value as Shard | undefined;
  return typeof s?.ranges === 'function' && typeof s?.subscribe === 'function';
}

/** The {@link Shard} of a `shard` option; `undefined` for none. */
export function shardOf(option: ShardOption | undefined): Shard | undefined {
  if (option === undefined) return undefined;
  if (!isShardOption(option)) {
    throw new KwatchError(
      'INVALID_OPTION',
      'Expected `shard` to be a ShardRing (a Shard) or an array of { start, end } bigint ranges',
    );
  }
  return Array.isArray(option) ? staticShard(option as readonly HashRange[]) : (option as Shard);
}
