/**
 * model-decode: what turning a watch line into a typed object costs, per event.
 *   raw:      JSON.parse of the line (the floor)
 *   kwatch:   parseWatchLine + adoptObject (prototype set in place, no copy)
 *   new Pod:  JSON.parse + kubernetes-models' own constructor (copies every nested object)
 */
import { adoptObject } from '@kwatch/models';
import { Pod } from '@kwatch/models/v1';
import { parseWatchLine } from '@kwatch/watch-core';
import { podEvent } from './fixtures.ts';

export interface Result {
  scenario: string;
  impl: string;
  events: number;
  nsPerEvent: number;
  eventsPerSec: number;
}

export function runModelDecode(events = 100_000, rounds = 5): Result[] {
  const lines = Array.from({ length: 1000 }, (_, i) => podEvent(i).trimEnd());
  const impls: Record<string, (line: string) => unknown> = {
    raw: (line) => JSON.parse(line),
    kwatch: (line) => adoptObject(parseWatchLine(line).object, Pod, undefined),
    'new Pod': (line) => new Pod((JSON.parse(line) as { object: never }).object),
  };
  const samples: Record<string, number[]> = {};
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    // Alternate the implementations run by run; medians below.
    for (const [name, fn] of Object.entries(impls)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < events; i++) if (fn(lines[i % lines.length] as string)) sink++;
      const list = samples[name] ?? [];
      samples[name] = list;
      list.push(Number(process.hrtime.bigint() - t0) / events);
    }
  }
  if (sink === 0) throw new Error('nothing decoded');
  return Object.entries(samples).map(([impl, ns]) => {
    const sorted = ns.slice(1).sort((a, b) => a - b); // round 0 is warm-up
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    return { scenario: 'model-decode', impl, events, nsPerEvent: Math.round(median), eventsPerSec: Math.round(1e9 / median) };
  });
}
