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
