/**
 * pnpm bench [--json] [scenario]: runs the benchmarks and prints a table, or one JSON object per line.
 */
import { parseArgs } from 'node:util';
import { runDecode } from './decode.ts';
import { runModelDecode } from './model-decode.ts';
import { runMuxFairness } from './mux-fairness.ts';
import { runStoreMemory } from './store-memory.ts';

const scenarios: Record<string, () => Promise<object[]> | object[]> = {
  decode: () => runDecode(),
  'slow-consumer': () => runDecode({ slow: true }),
  'model-decode': () => runModelDecode(),
  'mux-fairness': () => runMuxFairness(),
  'store-memory': () => runStoreMemory(),
};

const { values, positionals } = parseArgs({ options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
const chosen = positionals.length > 0 ? positionals : Object.keys(scenarios);
for (const name of chosen) {
  const run = scenarios[name];
  if (!run) {
    console.error(`unknown scenario '${name}'; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  const rows = await run();
  if (values.json) for (const r of rows) console.log(JSON.stringify(r));
  else console.table(rows);
}
