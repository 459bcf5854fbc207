import { expect, it } from 'vitest';
import { runSoak } from './soak.ts';

it('a short soak: nothing lost, nothing twice, nothing out of order, through faults, restarts and compactions', async () => {
  const r = await runSoak({ seconds: 90 });
  expect(r).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
  expect(r.restarts).toBeGreaterThanOrEqual(3);
  expect(r.compactions).toBeGreaterThanOrEqual(3);
  expect(r.faults).toBeGreaterThanOrEqual(30);
  expect(r.resyncs).toBeGreaterThanOrEqual(1);
  expect(r.operations).toBeGreaterThan(500);
  expect(r.objects).toBeGreaterThan(0);
  console.log(`soak: ${JSON.stringify(r)}`);
}, 400_000);

it('a short churn soak: breaks, stops, restreams, deletes, re-adds and replacements lose nothing and repeat nothing', async () => {
  const r = await runSoak({ seconds: 45, consumer: 'churn' });
  console.log(`soak churn: ${JSON.stringify(r)}`);
  expect(r).toMatchObject({ lost: 0, missed: 0, duplicates: 0, outOfOrder: 0, stray: 0, unsynced: 0, refusedRestarts: 0 });
  // Every churn action happened (a shuffled round of all of them every ~12 s).
  for (const action of ['breaks', 'stops', 'deletes', 'reAdds', 'replacements', 'slowPeriods'] as const)
    expect(r.churn[action], action).toBeGreaterThanOrEqual(1);
  expect(r.churn.restreams).toBeGreaterThanOrEqual(r.churn.breaks + r.churn.stops);
  expect(r.restarts).toBeGreaterThanOrEqual(3);
  expect(r.compactions).toBeGreaterThanOrEqual(3);
  expect(r.operations).toBeGreaterThan(200);
  expect(r.objects).toBeGreaterThan(0);
}, 300_000);
