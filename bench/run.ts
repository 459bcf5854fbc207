/**
 * pnpm bench [--json] [--rounds N] [--impl a,b] [--seconds S] [scenario ...]: runs the benchmarks and
 * prints a table, or one JSON object per line. Scenarios on the real control plane start their own.
 * `--seconds` is the storm scenario's window per implementation and mode (default 20).
 */
import { parseArgs } from 'node:util';
import { runDecode } from './decode.ts';
import { runDecodeInstructions } from './decode-instructions.ts';
import { runFootprint } from './footprint.ts';
import { runLatency } from './latency.ts';
import { runMetadata } from './metadata.ts';
import { runModelDecode } from './model-decode.ts';
import { runMuxFairness } from './mux-fairness.ts';
import { runReconcile } from './reconcile.ts';
import { runRecovery } from './recovery.ts';
import { runScale } from './scale.ts';
import { runShards } from './shards.ts';
import { runStoreMemory } from './store-memory.ts';
import { runStorm } from './storm.ts';
import { runSync } from './sync.ts';

const { values, positionals } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    impl: { type: 'string' },
    seconds: { type: 'string' },
  },
  allowPositionals: true,
});
const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
if (rounds !== undefined && !(Number.isInteger(rounds) && rounds > 0)) {
  console.error(`--rounds expects a positive integer, got '${values.rounds}'`);
  process.exit(2);
}
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
  console.error(`--seconds expects a positive number, got '${values.seconds}'`);
  process.exit(2);
}
const common = { ...(rounds ? { rounds } : {}), ...(values.impl ? { impls: values.impl.split(',') as never } : {}) };

const scenarios: Record<string, () => Promise<object[]> | object[]> = {
  decode: () => runDecode(common),
  'slow-consumer': () => runDecode({ ...common, slow: true }),
  'decode-instructions': () => runDecodeInstructions(common),
  sync: () => runSync(common),
  reconcile: () => runReconcile(common),
  latency: () => runLatency(common),
  recovery: () => runRecovery(common),
  scale: () => runScale(common),
  'scale-shared': () => runScale({ ...common, pairs: 50 }),
  'model-decode': () => runModelDecode(),
  'mux-fairness': () => runMuxFairness(),
  'store-memory': () => runStoreMemory(common),
  footprint: () => runFootprint(common),
  metadata: () => runMetadata(common),
  storm: () => runStorm({ ...common, ...(seconds ? { seconds } : {}) }),
  shards: () => runShards(rounds ? { rounds } : {}),
};

const chosen = positionals.length > 0 ? positionals : Object.keys(scenarios);
for (const name of chosen) {
  if (!scenarios[name]) {
    console.error(`unknown scenario '${name}'; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
}
for (const name of chosen) {
  const rows = await (scenarios[name] as () => Promise<object[]>)();
  if (values.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.table(rows);
}
// Peers' libraries may leave timers behind (client-node's informers reconnect on their own): the run is over.
process.exit(0);
