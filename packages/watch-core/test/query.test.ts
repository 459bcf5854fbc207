// The queries, built by pure functions from resolved options, against the resource-version matrix of
// docs/watching.md — and the first requests a stream actually sends in each cell (SimulatedApiServer).
import { ConfigMap } from '@kwatch/models/v1';
import { SimulatedApiServer } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import { apiErrorFrom, Watcher } from '../src/index.ts';
import { resolveWatcherOptions } from '../src/watch/options.ts';
import { listQuery, watchQuery } from '../src/watch/query.ts';

const o = resolveWatcherOptions({ labelSelector: 'app=web' });

describe('query builders', () => {
  it.each([
    [{}, 'labelSelector=app%3Dweb&limit=500'],
    [{ notOlderThan: '42' }, 'labelSelector=app%3Dweb&limit=500&resourceVersion=42&resourceVersionMatch=NotOlderThan'],
    [{ notOlderThan: '0' }, 'labelSelector=app%3Dweb&limit=500&resourceVersion=0&resourceVersionMatch=NotOlderThan'],
    [{ continueToken: 'c1', notOlderThan: '42' }, 'labelSelector=app%3Dweb&limit=500&continue=c1'],
    // After a page without progress the list starts over in one request: no limit, at the same resourceVersion.
    [{ notOlderThan: '42', unpaginated: true }, 'labelSelector=app%3Dweb&resourceVersion=42&resourceVersionMatch=NotOlderThan'],
    [{ unpaginated: true }, 'labelSelector=app%3Dweb'],
    [{ continueToken: 'c1', unpaginated: true }, 'labelSelector=app%3Dweb&continue=c1'],
  ])('LIST page %o', (page, expected) => {
    expect(listQuery(o, page).toString()).toBe(expected);
  });

  it.each([
    [{ resourceVersion: undefined }, 'labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&timeoutSeconds=290'],
    [
      { resourceVersion: '42' },
      'labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=42',
    ],
    [
      { resourceVersion: undefined, initialEvents: true },
      'labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&timeoutSeconds=290&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=',
    ],
    [
      { resourceVersion: '42', initialEvents: true },
      'labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&timeoutSeconds=290&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=42',
    ],
  ])('watch %o', (request, expected) => {
    expect(watchQuery(o, request).toString()).toBe(expected);
  });

  it('bookmarks off and no timeout: a WatchList still asks for bookmarks (its end is one)', () => {
    const quiet = resolveWatcherOptions({ allowWatchBookmarks: false, timeoutSeconds: null });
    expect(watchQuery(quiet, { resourceVersion: '7' }).toString()).toBe('watch=true&resourceVersion=7');
    expect(watchQuery(quiet, { resourceVersion: undefined, initialEvents: true }).get('allowWatchBookmarks')).toBe('true');
  });
});

describe('the resource-version matrix: what a stream asks first, and after a reconnect', () => {
  function setup(resourceVersion: string | undefined, watchList: 'auto' | false) {
    const sim = new SimulatedApiServer({ errorFactory: apiErrorFrom });
    sim.create('configmaps', { metadata: { name: 'a', namespace: 'ns' } });
    const rv = sim.resourceVersion;
    sim.create('configmaps', { metadata: { name: 'b', namespace: 'ns' } });
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport: sim,
      watchList,
      ...(resourceVersion === undefined ? {} : { resourceVersion: resourceVersion === 'N' ? rv : resourceVersion }),
    });
    return { sim, w, rv };
  }
  const asked = (sim: SimulatedApiServer) =>
    sim.requests.map((r) => {
      const q = r.query as Record<string, string>;
      const rv = q.resourceVersion === undefined ? '-' : q.resourceVersion === '' ? "''" : q.resourceVersion;
      return `${q.watch ? (q.sendInitialEvents ? 'watchlist' : 'watch') : 'list'} rv=${rv}`;
    });

  it.each([
    // manage, resourceVersion, watchList → first requests, events
    [false, undefined, 'auto', ['watch rv=-'], ['ADDED a', 'ADDED b']],
    [false, 'N', 'auto', ['watch rv=N'], ['ADDED b']],
    [false, '0', 'auto', ['watch rv=0'], ['ADDED a', 'ADDED b']],
    [true, undefined, 'auto', ["watchlist rv=''"], ['ADDED a', 'ADDED b', 'SYNCED']],
    [true, undefined, false, ['list rv=-'], ['ADDED a', 'ADDED b', 'SYNCED']], // the watch waits for the next pull
    [true, 'N', 'auto', ['watch rv=N'], ['ADDED b']],
    [true, '0', false, ['list rv=0'], ['ADDED a', 'ADDED b', 'SYNCED']],
  ] as const)('manage %s, resourceVersion %s, watchList %s', async (manage, resourceVersion, watchList, requests, events) => {
    const { sim, w, rv } = setup(resourceVersion, watchList);
    const got: string[] = [];
    for await (const e of w.stream({ manageResourceVersion: manage, markers: true })) {
      got.push(e.type === 'SYNCED' || e.type === 'RESYNC' ? e.type : `${e.type} ${e.object.metadata?.name}`);
      if (got.length === events.length) break;
    }
    expect(got).toEqual(events);
    const expected = requests.map((r) => r.replace('rv=N', `rv=${rv}`));
    expect(asked(sim).slice(0, expected.length)).toEqual(expected);
  });

  it('a reconnect: managed resumes after the last event taken; unmanaged repeats its request', async () => {
    for (const manage of [true, false]) {
      const { sim, w, rv } = setup('N', 'auto');
      const before = sim.requests.length;
      for await (const e of w.stream({ manageResourceVersion: manage })) {
        expect(e.object.metadata?.name).toBe('b');
        break;
      }
      for await (const _ of w.stream({ manageResourceVersion: manage, signal: AbortSignal.timeout(50) }));
      const second = sim.requests[before + 1]?.query as Record<string, string>;
      expect(second.resourceVersion).toBe(manage ? sim.resourceVersion : rv);
    }
  });
});
