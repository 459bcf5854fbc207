// stream({ resume }) against the in-process SimulatedApiServer, and fileResume.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock, SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, fileResume, isMarker, type ResumeStore, Watcher } from '../src/index.ts';

function memory(initial?: string): ResumeStore & { saves: string[] } {
  const saves: string[] = [];
  return {
    saves,
    load: async () => initial,
    save: async (rv) => {
      saves.push(rv);
    },
  };
}
function server(): SimulatedApiServer {
  const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
  sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' } });
  return sim;
}
async function take(stream: AsyncIterable<unknown>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of stream as AsyncIterable<{
    type: string;
    synthetic?: boolean;
    object?: { metadata?: { name?: string } };
  }>) {
    out.push(isMarker(e as never) ? e.type : `${e.type}${e.synthetic ? '*' : ''} ${e.object?.metadata?.name}`);
    if (out.length === n) break;
  }
  return out;
}

describe('stream({ resume })', () => {
  it('nothing saved: the initial state, then the position is saved when the stream ends', async () => {
    const sim = server();
    const resume = memory();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    expect(await take(w.stream({ resume, markers: true }), 3)).toEqual(['ADDED* a', 'ADDED* b', 'SYNCED']);
    expect(resume.saves.at(-1)).toBe(sim.resourceVersion);
  });

  it('a loaded version: a new watcher starts after it, and saves what it took', async () => {
    const sim = server();
    const rv = sim.resourceVersion;
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    sim.delete('configmaps', 'ns/a');
    const resume = memory(rv);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    expect(await take(w.stream({ resume }), 2)).toEqual(['ADDED c', 'DELETED a']);
    expect(resume.saves.at(-1)).toBe(sim.resourceVersion); // at most one save a second, and one at the end
    expect(resume.saves.length).toBeLessThanOrEqual(2);
    expect(new URLSearchParams(sim.requests[0]?.query).get('resourceVersion')).toBe(rv);
  });

  it('bookmarks are saved too (no item is yielded for them): within a second, while the consumer waits', async () => {
    const clock = new ManualClock();
    const sim = new SimulatedApiServer({ clock, errorFactory: apiErrorFrom, bookmarkIntervalMs: 5_000 });
    sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
    const resume = memory();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
    const stream = w.stream({ resume, markers: true });
    expect((await stream.next()).value).toMatchObject({ type: 'ADDED' });
    expect((await stream.next()).value).toMatchObject({ type: 'SYNCED' });
    const waiting = stream.next(); // the consumer waits for the next change
    const settle = async () => {
      for (let i = 0; i < 20; i++) await turn();
    };
    await settle();
    const before = w.currentResourceVersion();
    sim.create('configmaps', { metadata: { name: 'elsewhere', namespace: 'other' } }); // moves the resourceVersion only
    clock.advance(5_000); // a BOOKMARK
    await settle();
    expect(w.currentResourceVersion()).toBe(sim.resourceVersion);
    expect(w.currentResourceVersion()).not.toBe(before);
    clock.advance(1_000); // the save timer
    await settle();
    expect(resume.saves.at(-1)).toBe(sim.resourceVersion);
    w.stop();
    await waiting;
  });

  it('410 on the loaded version: RESYNC, every current object as a synthetic ADDED, SYNCED, then live', async () => {
    const sim = server();
    const rv = sim.resourceVersion;
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    sim.delete('configmaps', 'ns/a');
    sim.compact();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, backoff: { initialMs: 1, maxMs: 1 } });
    const stream = w.stream({ resume: memory(rv), markers: true });
    expect(await take(stream, 4)).toEqual(['RESYNC', 'ADDED* b', 'ADDED* c', 'SYNCED']);
  });

  it('a save that rejects ends the stream with its error; resume on an unmanaged stream is refused', async () => {
    const sim = server();
    const boom = new Error('disk full');
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const failing: ResumeStore = { load: async () => undefined, save: async () => Promise.reject(boom) };
    await expect(take(w.stream({ resume: failing, markers: true }), 3)).rejects.toBe(boom);
    // Refused when the stream is made, as every other bad stream option is.
    expect(() => w.stream({ resume: memory(), manageResourceVersion: false })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    expect(() => w.stream({ resume: {} as never })).toThrow(/load\(\) and save\(\)/);
  });
});

describe('stream({ resume }) against a store that hangs', () => {
  it('a save that never settles ends the stream with TIMEOUT after 5 s instead of hanging break; nothing is lost', async () => {
    const sim = server();
    const clock = new ManualClock();
    const saves: string[] = [];
    let hang = false;
    const store: ResumeStore = {
      load: async () => saves.at(-1),
      save: (rv) => (hang ? new Promise<void>(() => {}) : Promise.resolve(void saves.push(rv))),
    };
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
    const it = w.stream({ resume: store, markers: true })[Symbol.asyncIterator]();
    const first: string[] = [];
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      first.push(r.value.type);
      if (r.value.type === 'SYNCED') break;
    }
    await clock.advanceAsync(1000); // the periodic save of the synced position
    expect(saves.length).toBe(1);
    hang = true;
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    const c = it.next();
    expect(await clock.runUntilSettled(c, 10_000)).toBe(true);
    expect((await c).value).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'c' } } });
    await clock.advanceAsync(1000); // a save of c's position starts, and hangs
    const returned = it.return?.(undefined).then(
      () => 'done',
      (e: { code?: string }) => e.code,
    ) as Promise<string>;
    expect(await clock.runUntilSettled(returned, 4000)).toBe(false); // still waiting for the store
    expect(await clock.runUntilSettled(returned, 2000)).toBe(true);
    expect(await returned).toBe('TIMEOUT');
    // The position saved before stands: a new watcher replays from it, so c comes again — nothing lost.
    hang = false;
    const again = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock }).stream({ resume: store });
    const next = again.next();
    expect(await clock.runUntilSettled(next, 10_000)).toBe(true);
    expect((await next).value).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'c' } } });
    await again.return(undefined);
  });

  it('a load that never settles: return() while the first next() is pending settles both at once', async () => {
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: server() });
    const s = w.stream({ resume: { load: () => new Promise(() => {}), save: async () => {} } });
    const pending = s.next();
    await turn();
    const both = Promise.all([s.return(undefined), pending]);
    const settled = await Promise.race([both.then(() => true), new Promise((r) => setTimeout(() => r(false), 200))]);
    expect(settled).toBe(true);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(w.isRunning()).toBe(false);
  });
});

describe('fileResume', () => {
  it('missing or empty: none; saves atomically (no temporary file left), loads what was saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-resume-'));
    const path = join(dir, 'rv');
    const r = fileResume(path);
    expect(await r.load()).toBeUndefined();
    writeFileSync(path, '');
    expect(await r.load()).toBeUndefined();
    await r.save('123');
    await r.save('456');
    expect(await r.load()).toBe('456');
    expect(readFileSync(path, 'utf8')).toBe('456\n');
    expect(readdirSync(dir)).toEqual(['rv']);
    expect(() => fileResume('')).toThrow(/non-empty string/);
  });
});
