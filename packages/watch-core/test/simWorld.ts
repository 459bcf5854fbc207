// A simulated world for unit tests: SimulatedApiServer and watchers on one ManualClock, pulled as `for await` does.
import { setImmediate as turn } from 'node:timers/promises';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { apiErrorFrom, isMarker } from '../src/index.ts';

export type Any = any;

/** Lets every pending promise, microtask and immediate run (no simulated time passes). */
export async function flush(n = 8): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** `TYPE name` for events (with a tombstone mark), the type for markers. */
export const show = (e: Any): string =>
  isMarker(e) ? e.type : `${e.type} ${e.object?.metadata?.name}${e.tombstone ? ' (tombstone)' : ''}`;

/** Whether a line of `show` is a marker. */
export const isMarkerLine = (l: string): boolean => l === 'RESYNC' || l === 'SYNCED';

/** A world on a manual clock: the server and every watcher share it. */
export function world(objects: string[] = [], options: { bookmarkIntervalMs?: number } = {}) {
  const clock = new ManualClock();
  const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, ...options });
  for (const name of objects) sim.create('configmaps', { metadata: { name, namespace: 'ns' } });
  return { clock, sim };
}

/**
 * One pull of `it`, as `for await` does, moving the manual clock timer by timer until it settles
 * (or `maxMs` of simulated time pass: then it throws, the pull staying pending).
 */
export async function pull<T>(it: AsyncIterator<T>, clock: ManualClock, maxMs = 60_000): Promise<IteratorResult<T>> {
  const next = it.next();
  if (!(await clock.runUntilSettled(next, maxMs))) throw new Error(`no item within ${maxMs} ms of simulated time`);
  return next;
}

/** Pulls `n` items (shown), or until `until` matches one. */
export async function pullMany(it: AsyncIterator<Any>, clock: ManualClock, n: number, until?: (line: string) => boolean) {
  const out: string[] = [];
  while (out.length < n) {
    const r = await pull(it, clock);
    if (r.done) break;
    out.push(show(r.value));
    if (until?.(out.at(-1) as string)) break;
  }
  return out;
}

/** The requests of one resource (LISTs and watches). */
export const watchersOf = (sim: SimulatedApiServer, plural = 'configmaps') =>
  sim.requests.filter((r) => r.path.endsWith(`/${plural}`));

/** The most of `times` (ms) within any window of one second: what the pacing promise bounds by 15. */
export function maxPerSecond(times: readonly number[]): number {
  let max = 0;
  for (const from of times) max = Math.max(max, times.filter((t) => t >= from && t < from + 1000).length);
  return max;
}
