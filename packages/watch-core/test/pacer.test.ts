// The request budget: the token bucket and the failure backoff on a manual clock, and the bound it gives a
// Watcher against servers whose LIST pagination goes round in circles (issue 18, defect 1).
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { isMarker, type StreamBody, Watcher, type WatchTransport } from '../src/index.ts';
import { PACING, Pacer } from '../src/watch/pacer.ts';
import { maxPerSecond } from './simWorld.ts';

describe('Pacer: the token bucket', () => {
  it('a burst of 10 at once, then one token every 200 ms', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const signal = new AbortController().signal;
    for (let i = 0; i < PACING.burst; i++) expect(await pacer.admit(signal)).toBe(true);
    let admitted = false;
    void pacer.admit(signal).then((ok) => (admitted = ok));
    await clock.advanceAsync(199);
    expect(admitted).toBe(false);
    await clock.advanceAsync(1);
    expect(admitted).toBe(true);
    expect(pacer.requests).toBe(11);
  });

  it('refills up to the burst, never beyond it', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const signal = new AbortController().signal;
    clock.advance(60_000);
    for (let i = 0; i < PACING.burst; i++) await pacer.admit(signal);
    let admitted = false;
    void pacer.admit(signal).then((ok) => (admitted = ok));
    await clock.advanceAsync(199);
    expect(admitted).toBe(false); // a minute of quiet bought 10 tokens, not 300
    await clock.advanceAsync(1);
    expect(admitted).toBe(true);
  });

  it('a tight loop gets at most 15 in any second and 10 + 5·T in T seconds', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const signal = new AbortController().signal;
    const times: number[] = [];
    const t0 = clock.now();
    const loop = (async () => {
      while (clock.now() - t0 < 10_000) if (await pacer.admit(signal)) times.push(clock.now());
    })();
    await clock.advanceAsync(11_000);
    await loop;
    const inTen = times.filter((t) => t - t0 < 10_000).length;
    expect(inTen).toBe(10 + 5 * 10 - 1); // the 60th token falls due at 10 s exactly
    expect(maxPerSecond(times)).toBe(14); // 10 at once, then 4 more within the second (the 5th at 1 s exactly)
  });

  it('a free request takes no token but is counted', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const signal = new AbortController().signal;
    for (let i = 0; i < 100; i++) expect(await pacer.admit(signal, true)).toBe(true);
    for (let i = 0; i < PACING.burst; i++) expect(await pacer.admit(signal)).toBe(true);
    expect(pacer.requests).toBe(110);
    expect(clock.now()).toBe(new ManualClock().now());
  });

  it('an abort while waiting resolves false at once and leaves no timer', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock);
    const controller = new AbortController();
    for (let i = 0; i < PACING.burst; i++) await pacer.admit(controller.signal);
    const waiting = pacer.admit(controller.signal);
    await clock.advanceAsync(0);
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    expect(await pacer.admit(controller.signal)).toBe(false);
    expect(pacer.requests).toBe(PACING.burst);
  });
});

describe('Pacer: failures', () => {
  it('each failure is counted and waits longer (full jitter, doubling), until progress starts the count over', () => {
    const clock = new ManualClock();
    const pacer = new Pacer(clock, {}, () => 1);
    expect([pacer.failure(), pacer.failure(), pacer.failure()]).toEqual([800, 1600, 3200]);
    expect(pacer.consecutiveFailures).toBe(3);
    pacer.progress();
    expect(pacer.consecutiveFailures).toBe(0);
    expect(pacer.failure(7_000)).toBe(7_000); // a Retry-After is a floor
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A Watcher against hostile LIST servers: every request is timed on the manual clock.
// ---------------------------------------------------------------------------------------------------------------

type Page = { items: unknown[]; continue?: string };
/** A LIST server: page `n` (0-based, counting every LIST request) of the script. */
type Script = (n: number, query: URLSearchParams) => Page;

const obj = (name: string) => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '5' } });

/** After `maxRequests` the server answers no more (a runaway client fails the count instead of running out of memory). */
function listServer(clock: ManualClock, script: Script, maxRequests: number) {
  const times: number[] = [];
  const queries: URLSearchParams[] = [];
  const hang = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  const transport: WatchTransport = {
    async getJson(_path, query, signal) {
      if (times.length >= maxRequests) return hang(signal);
      times.push(clock.now());
      queries.push(query);
      const page = script(times.length - 1, query);
      return {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '5', ...(page.continue ? { continue: page.continue } : {}) },
        items: page.items,
      };
    },
    async openStream(_path, _query, signal): Promise<StreamBody> {
      times.push(clock.now());
      return hang(signal);
    },
  };
  return { transport, times, queries };
}

/**
 * Streams a Watcher (LIST, pages of `pageSize`, the smallest backoff, so that only the bucket paces it) against
 * `script` for `seconds` of simulated time, its consumer pulling all along.
 */
async function listFor(script: Script, seconds: number, opts: { pageSize?: number; maxRequests?: number } = {}) {
  const clock = new ManualClock();
  const server = listServer(clock, script, opts.maxRequests ?? 1_000);
  const reconnecting: Array<{ code: string; consecutiveErrors: number }> = [];
  const w = new Watcher(ConfigMap, {
    namespace: 'ns',
    transport: server.transport,
    clock,
    watchList: false,
    pageSize: opts.pageSize ?? 500,
    backoff: { initialMs: 10, maxMs: 10 },
    hooks: { reconnecting: ({ error, consecutiveErrors }) => reconnecting.push({ code: error.code, consecutiveErrors }) },
  });
  const items: unknown[] = [];
  let failed: unknown;
  const consumer = (async () => {
    try {
      for await (const e of w.stream({ markers: true })) items.push(e);
    } catch (err) {
      failed = err;
    }
  })();
  const t0 = clock.now();
  await clock.advanceAsync(seconds * 1000);
  const health = w.health();
  w.stop();
  await consumer;
  return { times: server.times.map((t) => t - t0), queries: server.queries, health, reconnecting, items, failed };
}

const T = 10;
const names = (items: unknown[]) => items.filter((e) => !isMarker(e as never)).length;

describe('a Watcher against a LIST that goes round in circles: paced, and reported as failing', () => {
  // `earned`: pages free of the budget — one per full page (pageSize) of objects new to the list, and none
  // after the list's first stall.
  it.each<[string, Script, number]>([
    ['every page the same object and the same token', () => ({ items: [obj('x')], continue: 'same' }), 0],
    ['every page the same object under a new token', (n) => ({ items: [obj('x')], continue: `t${n}` }), 0],
    ['every page empty under a new token', (n) => ({ items: [], continue: `t${n}` }), 0],
    ['a new object every page, the same token', (n) => ({ items: [obj(`o${n}`)], continue: 'same' }), 0],
    [
      'a full page of the same objects under a new token',
      (n) => ({ items: Array.from({ length: 5 }, (_, i) => obj(`p${i}`)), continue: `t${n}` }),
      1,
    ],
  ])('%s: at most 15 in any second, 10 + 5·T in T seconds', async (_, script, earned) => {
    const { times, health, reconnecting, failed } = await listFor(script, T, { pageSize: 5 });
    expect(failed).toBeUndefined();
    expect(times.length).toBeGreaterThan(5);
    expect(times.length).toBeLessThanOrEqual(10 + 5 * T + earned);
    expect(maxPerSecond(times)).toBeLessThanOrEqual(15 + earned);
    expect(health.consecutiveErrors).toBeGreaterThan(0);
    expect(health.lastError).toMatchObject({ code: 'NO_PROGRESS' }); // a retryable TransportError
    expect(reconnecting.length).toBeGreaterThan(0);
    expect(reconnecting.map((r) => r.consecutiveErrors).slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('after a stall the list starts over in one request without limit', async () => {
    const { queries } = await listFor(() => ({ items: [obj('x')], continue: 'same' }), 1);
    expect(queries[0]?.get('limit')).toBe('500');
    expect(queries[1]?.get('continue')).toBe('same');
    expect(queries[2]?.has('limit')).toBe(false);
    expect(queries[2]?.has('continue')).toBe(false);
  });

  it('a new object on every page under a new token is progress: paced like any request, not a failure', async () => {
    const { times, health, items } = await listFor((n) => ({ items: [obj(`o${n}`)], continue: `t${n}` }), T, {
      pageSize: 5,
    });
    expect(times.length).toBeLessThanOrEqual(10 + 5 * T);
    expect(maxPerSecond(times)).toBeLessThanOrEqual(15);
    expect(times.length).toBeGreaterThanOrEqual(5 * T); // not slowed below the budget either
    expect(names(items)).toBe(times.length);
    expect(health.consecutiveErrors).toBe(0);
  });

  it('full pages of new objects forever: free pages are at most one per pageSize new objects', async () => {
    const pageSize = 5;
    const { times, health, items } = await listFor(
      (n) => ({ items: Array.from({ length: pageSize }, (_, i) => obj(`o${n}-${i}`)), continue: `t${n}` }),
      T,
      { pageSize, maxRequests: 400 },
    );
    const objects = names(items);
    expect(objects).toBe(times.length * pageSize);
    expect(times.length).toBeLessThanOrEqual(10 + 5 * T + objects / pageSize);
    expect(health.consecutiveErrors).toBe(0);
  });

  it('an honest LIST still ends: 10,000 objects in pages of 500, 20 requests at once, SYNCED', async () => {
    const { times, items, health } = await listFor(
      (n) => ({
        items: Array.from({ length: 500 }, (_, i) => obj(`cm-${n * 500 + i}`)),
        ...(n < 19 ? { continue: `t${n}` } : {}),
      }),
      1,
    );
    expect(names(items)).toBe(10_000);
    expect(items.some((e) => isMarker(e as never) && (e as { type: string }).type === 'SYNCED')).toBe(true);
    expect(times.slice(0, 20)).toEqual(Array(20).fill(0)); // 20 pages, then the watch
    expect(times).toHaveLength(21);
    expect(health.consecutiveErrors).toBe(0);
  });
});
