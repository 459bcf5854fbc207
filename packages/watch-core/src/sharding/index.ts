// The sharding layer: replicas of a consumer as Leases, and the uid-hash ranges each owns.
export { RING_LABEL, ringRanges, ShardRing, type ShardRingOptions } from './ring.ts';
export { isShardOption, type Shard, type ShardOption, shardOf, staticShard } from './shard.ts';
