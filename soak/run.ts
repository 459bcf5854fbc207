/**
 * pnpm soak [--minutes N] [--json]: a randomised run against a real control plane with faults;
 * prints the result (one JSON object with --json) and exits 1 if anything was lost, repeated or out of order.
 */
import { parseArgs } from 'node:util';
import { runSoak } from './soak.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '2' }, json: { type: 'boolean', default: false } },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error(`--minutes expects a positive number, got '${values.minutes}'`);
  process.exit(2);
}
const result = await runSoak({ seconds: Math.round(minutes * 60), log: (line) => console.error(`soak: ${line}`) });
console.log(values.json ? JSON.stringify({ minutes, ...result }) : result);
process.exit(result.lost === 0 && result.duplicates === 0 && result.outOfOrder === 0 ? 0 : 1);
