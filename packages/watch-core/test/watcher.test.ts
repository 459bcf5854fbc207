// Hikaru's API details of Watcher, against the in-process SimulatedApiServer.
import { ConfigMap } from '@kwatch/models/v1';
import { SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, isMarker, Watcher } from '../src/index.ts';

function server(): SimulatedApiServer {
  const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
  sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' } });
  return sim;
}
const watchQueries = (sim: SimulatedApiServer) =>
  sim.requests.filter((r) => r.kind === 'watch').map((r) => new URLSearchParams(r.query as Record<string, string>));

async function take(stream: AsyncIterable<unknown>, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const e of stream as AsyncIterable<{ type: string; object?: { metadata?: { name?: string } } }>) {
    out.push(isMarker(e as never) ? e.type : `${e.type} ${e.object?.metadata?.name}`);
    if (out.length === n) break;
  }
  return out;
}

describe('Watcher: Hikaru details', () => {
  it("resourceVersion '0': the state from the cache, ended by SYNCED when managed", async () => {
    const sim = server();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, resourceVersion: '0', watchList: false });
    expect(await take(w.stream({ markers: true }), 3)).toEqual(['ADDED a', 'ADDED b', 'SYNCED']);
    expect(sim.requests[0]?.query).toMatchObject({ resourceVersion: '0', resourceVersionMatch: 'NotOlderThan' });
    expect(w.currentResourceVersion()).toBe(sim.resourceVersion);
  });

  it("resourceVersion '0' unmanaged: passed on as is (the server replays the state)", async () => {
    const sim = server();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, resourceVersion: '0' });
    expect(await take(w.stream({ manageResourceVersion: false }), 2)).toEqual(['ADDED a', 'ADDED b']);
    expect(watchQueries(sim)[0]?.get('resourceVersion')).toBe('0');
  });

  it('updateResourceVersion is what the next stream starts after, managed or not; unmanaged streams do not move it', async () => {
    const sim = server();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const rv = sim.resourceVersion;
    sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
    w.updateResourceVersion(rv);
    expect(w.currentResourceVersion()).toBe(rv);
    expect(await take(w.stream({ manageResourceVersion: false }), 1)).toEqual(['ADDED c']);
    expect(watchQueries(sim).at(-1)?.get('resourceVersion')).toBe(rv);
    expect(w.currentResourceVersion()).toBe(rv); // Hikaru: only managed streams advance it
    expect(await take(w.stream(), 1)).toEqual(['ADDED c']);
    expect(w.currentResourceVersion()).toBe(sim.resourceVersion); // managed: after the event taken
  });

  it('timeoutSeconds 0 or null sends no timeout (the server default)', async () => {
    for (const timeoutSeconds of [0, null]) {
      const sim = server();
      const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, timeoutSeconds, resourceVersion: '1' });
      sim.create('configmaps', { metadata: { name: 'c', namespace: 'ns' } });
      await take(w.stream(), 1);
      expect(watchQueries(sim)[0]?.has('timeoutSeconds')).toBe(false);
    }
  });

  it('isRunning: false before the first pull, true while streaming, false after stop() or break', async () => {
    const sim = server();
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const s = w.stream();
    expect(w.isRunning()).toBe(false);
    await s.next();
    expect(w.isRunning()).toBe(true);
    w.stop();
    expect(w.isRunning()).toBe(false);
    await s.return(undefined);
    await take(w.stream(), 1);
    expect(w.isRunning()).toBe(false);
  });

  it('a persistently failing watcher shows in health(): consecutive errors, the last error, requests', async () => {
    const sim = server();
    sim.setModes({ errors: { status: 503 } });
    const seen: number[] = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport: sim,
      backoff: { initialMs: 1, maxMs: 2 },
      hooks: { reconnecting: ({ consecutiveErrors }) => seen.push(consecutiveErrors) },
    });
    const s = w.stream();
    const pending = s.next();
    while (seen.length < 3) await new Promise((r) => setTimeout(r, 5));
    const h = w.health();
    expect(h.consecutiveErrors).toBeGreaterThanOrEqual(3);
    expect(h.lastError?.code).toBe('SERVER_ERROR');
    expect(h.requests).toBeGreaterThanOrEqual(3);
    expect(seen.slice(0, 3)).toEqual([1, 2, 3]);
    w.stop();
    await pending;
  });
});
