/**
 * Shards benchmark peer: one replica of a sharded watch. It joins a ShardRing (a Lease per replica) and watches the
 * ConfigMaps of one namespace with `shard: ring`, holding them in a Store. KUBECONFIG names the cluster.
 *
 * Arguments: `<namespace> <ring> <identity> <leaseDurationMs> <renewIntervalMs>` (the Leases live in `namespace`).
 * Lines out (protocol.ts): `ready` once configured (nothing requested yet); `synced <held>` after each SYNCED that
 * follows a change of its owned ranges while it owns some (it owns ranges and has synced them); `status …` in answer to
 * `status`. Lines in: `start` joins the ring and starts the watch; `status` asks for
 * `status <synced 0|1> <held> <outside> <rangesChangedAt> <syncedAt> <filtering> <ranges>` — `outside`: objects held
 * whose uid hash is not in the owned ranges; times in ms since the epoch (0: never); `filtering`: `server` or `client`
 * as the last LIST saw it (`-` unknown: a WatchList sync does not say); `ranges`: `start-end,…` in hex, `-` for none.
 * When stdin closes, it leaves the ring (deletes its Lease) and exits.
 */
import { createInterface } from 'node:readline';
import { ConfigMap } from '@kwatch/models/v1/ConfigMap';
import { inRanges, KubeClient, ShardRing, Store, Watcher } from '@kwatch/watch-core';
import { say } from './protocol.ts';

const [namespace, ringName, identity, leaseMs, renewMs] = process.argv.slice(2);
if (!namespace || !ringName || !identity || !leaseMs || !renewMs) {
  console.error('usage: shard-kwatch <namespace> <ring> <identity> <leaseDurationMs> <renewIntervalMs>');
  process.exit(2);
}
const client = new KubeClient();
const ring = new ShardRing({
  name: ringName,
  namespace,
  identity,
  client,
  leaseDurationMs: Number(leaseMs),
  renewIntervalMs: Number(renewMs),
});
const watcher = new Watcher(ConfigMap, { namespace, shard: ring, transport: client });
const store = new Store<ConfigMap>();

// Synced with its ranges: a SYNCED came after the last change of the owned ranges, and they are not empty.
let synced = false;
let rangesChangedAt = 0;
let syncedAt = 0;
ring.subscribe(() => {
  synced = false;
  rangesChangedAt = Date.now();
});

const hex = (): string =>
  ring
    .ranges()
    .map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`)
    .join(',');

async function run(): Promise<void> {
  for await (const e of watcher.stream({ markers: true })) {
    store.apply(e);
    if (e.type === 'SYNCED' && ring.ranges().length > 0 && !synced) {
      synced = true;
      syncedAt = Date.now();
      say(`synced ${store.size}`);
    }
  }
}

let started = false;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'start' && !started) {
    started = true;
    run().catch((error: unknown) => {
      console.error(`shard-kwatch ${identity}: ${String(error)}`);
      process.exit(1);
    });
  } else if (line === 'status') {
    const ranges = ring.ranges();
    let outside = 0;
    for (const cm of store.list()) if (!inRanges(cm.metadata?.uid, ranges)) outside += 1;
    const filtering = watcher.health().shardFiltering ?? '-';
    say(`status ${synced ? 1 : 0} ${store.size} ${outside} ${rangesChangedAt} ${syncedAt} ${filtering} ${hex() || '-'}`);
  }
});
say('ready');
await new Promise((resolve) => lines.once('close', resolve));
watcher.stop();
await ring.stop();
process.exit(0);
