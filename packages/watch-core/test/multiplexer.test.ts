// The multiplexer's exceptionCallback contract, against the in-process SimulatedApiServer.
import { ConfigMap, Secret } from '@kwatch/models/v1';
import { SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, type Culled, type KwatchError, MultiplexingWatcher, Watcher } from '../src/index.ts';

function server(): SimulatedApiServer {
  const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
  sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
  sim.create('secrets', { metadata: { name: 's', namespace: 'ns' } });
  return sim;
}
const fast = { initialMs: 5, maxMs: 5 };

describe('MultiplexingWatcher exceptionCallback', () => {
  it('an async callback that resolves true keeps the watcher (awaited, then restarted after a backoff)', async () => {
    const sim = server();
    sim.setModes({ errors: { status: 403, times: 2, requests: 'watch' } });
    let calls = 0;
    const mux = new MultiplexingWatcher({
      watchers: [new Watcher(ConfigMap, { namespace: 'ns', transport: sim })],
      restartBackoff: fast,
      exceptionCallback: async (_m, _w, error) => {
        calls += 1;
        await new Promise((r) => setTimeout(r, 5));
        return (error as KwatchError).code === 'FORBIDDEN';
      },
    });
    for await (const e of mux.stream()) {
      expect(`${e.type} ${e.object.metadata?.name}`).toBe('ADDED a');
      break;
    }
    expect(calls).toBe(2);
    expect(mux.culled).toEqual([]);
  });

  it('an async callback that rejects culls the watcher, keeping its own error and the callback’s; the others stream on', async () => {
    const sim = server();
    const failing = new Watcher(ConfigMap, { namespace: 'ns', transport: sim });
    const healthy = new Watcher(Secret, { namespace: 'ns', transport: sim });
    sim.setModes({ errors: { status: 403, requests: 'watch', times: 1 } });
    const culledSeen: unknown[] = [];
    const mux = new MultiplexingWatcher({
      watchers: [failing, healthy],
      restartBackoff: fast,
      onCulled: (_w, error) => culledSeen.push(error),
      exceptionCallback: async () => {
        throw new Error('the callback broke');
      },
    });
    const got: string[] = [];
    for await (const e of mux.stream()) {
      got.push(`${e.kind} ${e.object.metadata?.name}`);
      if (mux.culled.length === 1 && got.includes('Secret s')) break;
    }
    expect(got).toEqual(['Secret s']);
    expect(mux.culled).toHaveLength(1);
    const culled = mux.culled[0] as Culled;
    expect(culled.watcher).toBe(failing);
    expect((culled.error as KwatchError).code).toBe('FORBIDDEN');
    expect((culled.callbackError as Error).message).toBe('the callback broke');
    expect(culledSeen).toEqual([culled.error]);
    expect(mux.watchers()).toEqual([healthy]);
  });

  it('only exactly true keeps: a promise of anything else culls', async () => {
    for (const answer of [1, 'true', undefined, false]) {
      const sim = server();
      sim.setModes({ errors: { status: 403, requests: 'watch' } });
      const mux = new MultiplexingWatcher({
        watchers: [new Watcher(ConfigMap, { namespace: 'ns', transport: sim })],
        exceptionCallback: async () => answer,
      });
      for await (const _ of mux.stream()) expect.unreachable('no event from a refused watch');
      expect(mux.culled).toHaveLength(1);
      expect(mux.isRunning()).toBe(false);
    }
  });

  it('a bad stream option is refused at once, and `resume` names the Watcher', () => {
    const mux = new MultiplexingWatcher();
    expect(() => mux.stream({ quitOnTimout: true } as never)).toThrow('Unknown option `quitOnTimout`');
    expect(() => mux.stream({ resume: { load: async () => undefined, save: async () => {} } })).toThrow(
      'Unknown option `resume` for a multiplexer (it is a Watcher stream option)',
    );
  });
});
