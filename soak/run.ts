/**
 * pnpm soak [--minutes N] [--consumer steady|churn] [--json]: a randomised run against a real control plane with
 * faults; prints the result (one JSON object with --json) and exits 1 if anything was lost, repeated, out of order,
 * stray, left unsynced or refused. `--consumer churn` breaks, stops, restreams, deletes and re-adds watchers and is
 * slow at times (see docs/reliability.md); the default is the steady consumer.
 */
import { parseArgs } from 'node:util';
import { runSoak, SOAK_CONSUMERS, type SoakConsumer, soakPassed } from './soak.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    consumer: { type: 'string', default: 'steady' },
    json: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error(`--minutes expects a positive number, got '${values.minutes}'`);
  process.exit(2);
}
const consumer = values.consumer as SoakConsumer;
if (!SOAK_CONSUMERS.includes(consumer)) {
  console.error(`--consumer expects one of ${SOAK_CONSUMERS.join(', ')}, got '${values.consumer}'`);
  process.exit(2);
}
const result = await runSoak({
  seconds: Math.round(minutes * 60),
  consumer,
  log: (line) => console.error(`soak: ${line}`),
});
console.log(values.json ? JSON.stringify({ minutes, ...result }) : result);
process.exit(soakPassed(result) ? 0 : 1);
