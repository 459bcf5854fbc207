/**
 * The loss-free contract at the consumer boundary, on the real control plane.
 *
 * In managed mode a watcher delivers the existing objects once, then every change, never twice,
 * nothing lost — also across `break`, `stop()`, and a new `stream()` on the same watcher (or
 * multiplexer). The resourceVersion and sync progress count as delivered when the consumer has
 * TAKEN an event, not when its bytes arrived: events that arrived in the same chunk (or LIST page,
 * or multiplexer queue) as a taken one, but were not taken, must come on the next stream.
 *
 * Every expectation is exact (names and resourceVersions from the server's own answers). Where a
 * test depends on several events sharing one chunk, a spying transport records the chunks as they
 * were read from the network and the test checks that the edge was really exercised.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigMap, ConfigMapList, Secret, SecretList } from '@kwatch/models/v1';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isMarker,
  kubeConfigTransport,
  type MultiplexedEvent,
  type MultiplexedMarker,
  MultiplexingWatcher,
  type StreamBody,
  type WatchEvent,
  Watcher,
  type WatcherOptions,
  type WatchMarker,
  type WatchTransport,
} from '../src/index.ts';
import { Collector, core, cp, createConfigMaps, freshNamespace } from './helpers.ts';

const kubeConfig = cp.kubeConfig;

/** Everything a test starts, stopped after it even when it fails. */
const stoppers = new Set<{ stop(): void }>();
afterEach(() => {
  for (const s of stoppers) s.stop();
  stoppers.clear();
});
function track<W extends { stop(): void }>(w: W): W {
  stoppers.add(w);
  return w;
}

type Meta = { metadata?: { name?: string; resourceVersion?: string } };
type Item = WatchEvent<Meta> | WatchMarker;

/** An event as `TYPE name rv`, a marker as its type (`SYNCED`, `RESYNC`). */
function fmt(e: Item): string {
  if (isMarker(e)) return e.type;
  return `${e.type} ${e.object.metadata?.name} ${e.object.metadata?.resourceVersion}`;
}
/** A multiplexed event as `Kind TYPE name rv`, a marker as `Kind MARKER`. */
function fmtMux(e: MultiplexedEvent<unknown> | MultiplexedMarker): string {
  if (isMarker(e as Item)) return `${e.kind} ${e.type}`;
  const o = (e as MultiplexedEvent<Meta>).object;
  return `${e.kind} ${e.type} ${o.metadata?.name} ${o.metadata?.resourceVersion}`;
}
const rvOf = (line: string): number => Number(line.split(' ').at(-1));
const byRv = (a: string, b: string): number => rvOf(a) - rvOf(b);
const sorted = (xs: string[]): string[] => [...xs].sort();
/** The object events (`TYPE name rv`, `Kind TYPE name rv`; not markers) that occur more than once. */
const twice = (xs: string[]): string[] => [...new Set(xs.filter((x, i) => x.split(' ').length >= 3 && xs.indexOf(x) !== i))];

/** Time for a burst's events, all written by the server, to reach this process (not an assertion). */
const LAND_MS = 500;

/** Polls until `predicate` holds or `ms` passed; never throws (the caller asserts exactly afterwards). */
async function settle(predicate: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await sleep(20);
}

/** The promise's value, or 'timeout' after `ms` (the timer is cleared either way). */
async function withTimeout<R>(promise: Promise<R>, ms: number): Promise<R | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The ConfigMaps of a namespace as the server has them: name → resourceVersion. */
async function configMapState(ns: string): Promise<Map<string, string>> {
  const list = await core.listNamespacedConfigMap({ namespace: ns });
  return new Map(list.items.map((c) => [c.metadata?.name ?? '', c.metadata?.resourceVersion ?? '']));
}
async function secretState(ns: string): Promise<Map<string, string>> {
  const list = await core.listNamespacedSecret({ namespace: ns });
  return new Map(list.items.map((c) => [c.metadata?.name ?? '', c.metadata?.resourceVersion ?? '']));
}
const addedLines = (state: Map<string, string>, prefix = ''): string[] =>
  [...state].map(([name, rv]) => `${prefix}ADDED ${name} ${rv}`);

async function createSecrets(ns: string, names: string[]): Promise<void> {
  for (const name of names)
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: { k: 'v' } } });
}

async function replaceConfigMap(ns: string, name: string, v: string): Promise<string> {
  const cm = await core.replaceNamespacedConfigMap({ namespace: ns, name, body: { metadata: { name }, data: { v } } });
  return cm.metadata?.resourceVersion ?? '';
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function parallel<A, R>(items: A[], n: number, fn: (a: A) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as A);
      }
    }),
  );
  return out;
}

/**
 * A burst: for each name, create then (at once) replace — all names in parallel, so that the
 * watch likely gets several events in one chunk. Returns the events the server reports, as
 * `TYPE name rv`, in resourceVersion order.
 */
async function burst(ns: string, names: string[]): Promise<string[]> {
  const lines = await Promise.all(
    names.map(async (name) => {
      const created = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { v: '1' } } });
      const rv = await replaceConfigMap(ns, name, '2');
      return [`ADDED ${name} ${created.metadata?.resourceVersion}`, `MODIFIED ${name} ${rv}`];
    }),
  );
  return lines.flat().sort(byRv);
}

/** One network chunk of a watch response: the complete event lines it finished, as `TYPE name rv`. */
interface Chunk {
  readonly lines: string[];
}

/**
 * A transport that records, for every watch response, the chunks as they were read from the
 * network (the lines each one completed). It changes nothing in what the watcher receives.
 */
function spyingTransport(kc: KubeConfig): { transport: WatchTransport; chunks: Chunk[] } {
  const inner = kubeConfigTransport(kc);
  const chunks: Chunk[] = [];
  const wrap = (body: StreamBody): StreamBody => {
    const decoder = new TextDecoder();
    let pending = '';
    return {
      close: (reason) => body.close(reason),
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          pending += decoder.decode(chunk, { stream: true });
          const parts = pending.split('\n');
          pending = parts.pop() ?? '';
          const lines: string[] = [];
          for (const p of parts) {
            if (!p.trim()) continue;
            try {
              const { type, object } = JSON.parse(p) as { type: string; object: Meta };
              lines.push(`${type} ${object.metadata?.name} ${object.metadata?.resourceVersion}`);
            } catch {
              lines.push('UNPARSED');
            }
          }
          if (lines.length) chunks.push({ lines });
          yield chunk;
        }
      },
    };
  };
  return {
    chunks,
    transport: {
      getJson: (path, query, signal) => inner.getJson(path, query, signal),
      openStream: async (path, query, signal) => wrap(await inner.openStream(path, query, signal)),
    },
  };
}

/** How many object events (not bookmarks) followed `line` in the chunk that carried it. */
function eventsAfterInChunk(chunks: Chunk[], line: string): number {
  const chunk = chunks.findLast((c) => c.lines.includes(line));
  if (!chunk) return -1;
  return chunk.lines.slice(chunk.lines.indexOf(line) + 1).filter((l) => !l.startsWith('BOOKMARK')).length;
}

describe('break mid-sync, then stream() again on the same watcher', () => {
  const variants: Array<[string, Partial<WatcherOptions<typeof ConfigMap>>, boolean]> = [
    ['LIST, pageSize 1 (one object per page)', { watchList: false, pageSize: 1 }, false],
    ['LIST, pageSize 2 (break in the middle of a page)', { watchList: false, pageSize: 2 }, false],
    ['LIST, one page (default pageSize)', { watchList: false }, false],
    ['WatchList (default)', {}, true],
  ];
  it.each(variants)('%s: the other objects arrive as ADDED, then SYNCED, none twice', async (_name, options, watchList) => {
    const ns = await freshNamespace('ct-sync');
    await createConfigMaps(ns, ['a', 'b', 'c', 'd', 'e']);
    const state = await configMapState(ns);
    const via: string[] = [];
    const spy = spyingTransport(kubeConfig);
    const watcher = track(
      new Watcher(ConfigMap, {
        namespace: ns,
        transport: spy.transport,
        hooks: { relisted: (i) => via.push(i.via) },
        ...options,
      }),
    );

    // LIST: take one event (the page holds more, except with pageSize 1). WatchList: take events
    // until one arrived with more behind it in its chunk (if the first came alone, pausing lets
    // the rest pile up and be read together).
    const first: string[] = [];
    for await (const e of watcher.stream({ markers: true })) {
      first.push(fmt(e));
      if (!watchList || eventsAfterInChunk(spy.chunks, fmt(e)) > 0 || first.length === state.size) break;
      await sleep(LAND_MS);
    }
    expect(first.every((l) => l.startsWith('ADDED '))).toBe(true);
    expect(first.length).toBeLessThan(state.size);
    if (watchList) {
      // The edge: the last event taken shared its chunk with events not taken.
      expect(eventsAfterInChunk(spy.chunks, first.at(-1) as string), JSON.stringify(spy.chunks)).toBeGreaterThan(0);
    }

    const c = new Collector(watcher.stream({ markers: true }));
    await settle(() => c.lines.includes('SYNCED') || c.ended, 30_000);
    await createConfigMaps(ns, ['sentinel']);
    const sentinel = `ADDED sentinel ${(await configMapState(ns)).get('sentinel')}`;
    await settle(() => c.items.some((e) => fmt(e as Item) === sentinel) || c.ended, 30_000);
    const second = c.items.map((e) => fmt(e as Item));
    watcher.stop();
    await c.done;

    expect(c.error).toBeUndefined();
    // The objects not taken, each once (any order), then SYNCED, then live.
    const rest = addedLines(state).filter((l) => !first.includes(l));
    expect({ objects: sorted(second.slice(0, -2)), tail: second.slice(-2) }).toEqual({
      objects: sorted(rest),
      tail: ['SYNCED', sentinel],
    });
    expect(twice([...first, ...second])).toEqual([]);
    expect(new Set(via)).toEqual(new Set([watchList ? 'watch-list' : 'list']));
  });
});

describe('break inside a burst, then stream() again', () => {
  it('every change after the one taken arrives, none twice, in order', async () => {
    const ns = await freshNamespace('ct-burst');
    await createConfigMaps(ns, ['pre']);
    const initial = addedLines(await configMapState(ns));
    const spy = spyingTransport(kubeConfig);
    const watcher = track(new Watcher(ConfigMap, { namespace: ns, transport: spy.transport }));
    const names = Array.from({ length: 12 }, (_, i) => `b${String(i).padStart(2, '0')}`);

    const first: string[] = [];
    let changes: Promise<string[]> | undefined;
    let takenInBurst = 0;
    for await (const e of watcher.stream({ markers: true })) {
      const line = fmt(e);
      first.push(line);
      if (line === 'SYNCED') {
        // The consumer is away (not pulling) while the burst happens, so its events pile up and
        // are read together: one chunk with several events.
        changes = burst(ns, names);
        await changes;
        await sleep(LAND_MS);
        continue;
      }
      if (!changes) continue;
      takenInBurst += 1;
      // Break right after an event that arrived with more events behind it in the same chunk.
      if (eventsAfterInChunk(spy.chunks, line) > 0 || takenInBurst === names.length * 2) break;
    }
    const all = await (changes as Promise<string[]>);
    const taken = first.at(-1) as string;
    expect(
      eventsAfterInChunk(spy.chunks, taken),
      `no chunk of the burst held 2+ events: ${JSON.stringify(spy.chunks)}`,
    ).toBeGreaterThan(0);
    // The first stream: the initial state, SYNCED, then the burst's events in order up to the one taken.
    expect(first).toEqual([...initial, 'SYNCED', ...all.slice(0, all.indexOf(taken) + 1)]);

    const lateRv = (await createConfigMaps(ns, ['late'])).late;
    const late = `ADDED late ${lateRv}`;
    const c = new Collector(watcher.stream({ markers: true }));
    await settle(() => c.items.some((e) => fmt(e as Item) === late) || c.ended);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
    // Exactly the changes after the one taken, in resourceVersion order (so per object in order), then the new one.
    expect(c.items.map((e) => fmt(e as Item))).toEqual([...all.slice(all.indexOf(taken) + 1), late]);
  });
});

describe('stop() inside the loop', () => {
  it('600 ConfigMaps, LIST pages of 500: after stop() on the first event the loop sees no further event; a new stream delivers the rest once', async () => {
    const ns = await freshNamespace('ct-stop');
    const names = Array.from({ length: 600 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
    await parallel(names, 16, (name) => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } }));
    const state = await configMapState(ns);
    expect(state.size).toBe(600);
    const watcher = track(new Watcher(ConfigMap, { namespace: ns, kubeConfig, watchList: false, pageSize: 500 }));

    const first: string[] = [];
    const afterStop: string[] = [];
    for await (const e of watcher.stream({ markers: true })) {
      if (first.length === 0) {
        first.push(fmt(e));
        watcher.stop();
      } else afterStop.push(fmt(e));
    }
    expect(first[0]).toMatch(/^ADDED cm-/);
    expect({ eventsAfterStop: afterStop.length, first: afterStop.slice(0, 3) }).toEqual({ eventsAfterStop: 0, first: [] });

    // Also across stop(): the next stream brings everything not taken, once, then SYNCED.
    const c = new Collector(watcher.stream({ markers: true }));
    await settle(() => c.lines.includes('SYNCED') || c.ended, 60_000);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
    const taken = [...first, ...afterStop];
    const second = c.items.map((e) => fmt(e as Item));
    expect(second.at(-1)).toBe('SYNCED');
    expect(twice([...taken, ...second])).toEqual([]);
    expect(sorted([...taken, ...second.slice(0, -1)])).toEqual(sorted(addedLines(state)));
  }, 180_000);
});

describe('MultiplexingWatcher: break, then stream() again at once', () => {
  it('no watcher is culled, and the union of both streams is the state: nothing lost, nothing twice', async () => {
    const ns = await freshNamespace('ct-mux');
    await createConfigMaps(ns, ['c1', 'c2', 'c3', 'c4']);
    await createSecrets(ns, ['s1', 's2', 's3', 's4']);
    const m = track(
      new MultiplexingWatcher()
        .addWatcher(new Watcher(ConfigMap, { namespace: ns, kubeConfig }))
        .addWatcher(new Watcher(Secret, { namespace: ns, kubeConfig })),
    );

    const first: string[] = [];
    for await (const e of m.stream({ markers: true })) {
      first.push(fmtMux(e));
      if (first.length === 3) break;
    }
    const c = new Collector(m.stream({ markers: true }) as AsyncIterable<Item>);
    const lines = () => (c.items as unknown as Array<MultiplexedEvent<unknown> | MultiplexedMarker>).map(fmtMux);
    await createConfigMaps(ns, ['zz-sentinel']);
    await createSecrets(ns, ['zz-sentinel']);
    await settle(() => lines().filter((l) => /^(ConfigMap|Secret) ADDED zz-sentinel /.test(l)).length === 2 || c.ended);
    const second = lines();
    m.stop();
    await c.done;

    expect(c.error).toBeUndefined();
    expect(m.culled.map((x) => `${x.watcher.target.info.kind}: ${String(x.error)}`)).toEqual([]);
    const expected = [...addedLines(await configMapState(ns), 'ConfigMap '), ...addedLines(await secretState(ns), 'Secret ')];
    const events = [...first, ...second].filter((l) => l.split(' ').length === 4);
    expect(twice(events)).toEqual([]);
    expect(sorted(events)).toEqual(sorted(expected));
    // Each watcher's initial state was completed once, in one of the two streams.
    const markers = [...first, ...second].filter((l) => l.split(' ').length === 2);
    expect(sorted(markers)).toEqual(['ConfigMap SYNCED', 'Secret SYNCED']);
  });
});

describe('MultiplexingWatcher: delWatcher(w) then addWatcher(w), the same instance, while streaming', () => {
  it('events queued but not taken when deleted, and changes made while deleted, arrive after re-adding, none twice', async () => {
    const ns = await freshNamespace('ct-del');
    await createConfigMaps(ns, ['a']);
    await createSecrets(ns, ['s']);
    const spy = spyingTransport(kubeConfig);
    const w = new Watcher(ConfigMap, { namespace: ns, transport: spy.transport });
    // The Secret watcher keeps the multiplexer alive while the ConfigMap watcher is out.
    const m = track(new MultiplexingWatcher().addWatcher(w).addWatcher(new Watcher(Secret, { namespace: ns, kubeConfig })));
    const iter = m.stream()[Symbol.asyncIterator]();
    const got: string[] = [];
    const pull = async (until: (line: string) => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await withTimeout(iter.next(), deadline - Date.now());
        if (r === 'timeout')
          throw new Error(
            `timed out waiting for ${what}; got ${JSON.stringify(got)}; culled ${String(m.culled.map((x) => x.error))}`,
          );
        if (r.done) throw new Error(`stream ended before ${what}; got ${JSON.stringify(got)}`);
        const line = fmtMux(r.value);
        got.push(line);
        if (until(line)) return;
      }
    };
    const initial = [
      `ConfigMap ADDED a ${(await configMapState(ns)).get('a')}`,
      `Secret ADDED s ${(await secretState(ns)).get('s')}`,
    ];
    await pull(() => initial.every((l) => got.includes(l)), 'ADDED a and ADDED s');
    expect(sorted(got)).toEqual(initial);

    // A burst; take one of it, then let the multiplexer read the rest into its queue without taking it.
    const names = Array.from({ length: 8 }, (_, i) => `b${i}`);
    const rvs = await Promise.all(
      names.map(async (name) => {
        const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
        return `ConfigMap ADDED ${name} ${cm.metadata?.resourceVersion}`;
      }),
    );
    const burstLines = rvs.sort(byRv);
    await pull((l) => l.startsWith('ConfigMap ADDED b'), 'the first burst event');
    const lastBurst = (burstLines.at(-1) as string).replace('ConfigMap ', '');
    await settle(() => spy.chunks.some((ch) => ch.lines.includes(lastBurst)), 20_000);
    expect(
      spy.chunks.some((ch) => ch.lines.includes(lastBurst)),
      'the whole burst was read from the network',
    ).toBe(true);

    expect(m.delWatcher(w)).toBe(true);
    const whileOut = `ConfigMap ADDED while-out ${(await createConfigMaps(ns, ['while-out']))['while-out']}`;
    m.addWatcher(w);
    const after = `ConfigMap ADDED after ${(await createConfigMaps(ns, ['after'])).after}`;
    await pull((l) => l === after, 'ADDED after');
    await iter.return?.();

    expect(m.culled).toEqual([]);
    expect(got.filter((l) => l.startsWith('Secret '))).toEqual([initial[1]]);
    expect(got.filter((l) => l.startsWith('ConfigMap '))).toEqual([initial[0], ...burstLines, whileOut, after]);
  });

  it('deleted and re-added in the same tick: not culled, keeps streaming, nothing lost or twice', async () => {
    const ns = await freshNamespace('ct-del');
    await createConfigMaps(ns, ['a']);
    const w = new Watcher(ConfigMap, { namespace: ns, kubeConfig });
    const m = track(new MultiplexingWatcher().addWatcher(w).addWatcher(new Watcher(Secret, { namespace: ns, kubeConfig })));
    const c = new Collector(m.stream() as AsyncIterable<Item>);
    const lines = () => (c.items as unknown as MultiplexedEvent<unknown>[]).map(fmtMux);
    const a = `ConfigMap ADDED a ${(await configMapState(ns)).get('a')}`;
    await settle(() => lines().includes(a) || c.ended);
    expect(lines()).toEqual([a]);

    expect(m.delWatcher(w)).toBe(true);
    m.addWatcher(w);
    const again = `ConfigMap ADDED again ${(await createConfigMaps(ns, ['again'])).again}`;
    await settle(() => lines().includes(again) || c.ended || m.culled.length > 0, 20_000);
    m.stop();
    await c.done;
    expect(m.culled.map((x) => String(x.error))).toEqual([]);
    expect(lines()).toEqual([a, again]);
  });

  it('delWatcher finds the watcher by either class of its kind (ConfigMap and ConfigMapList are one kind)', () => {
    const ns = 'default';
    const m = new MultiplexingWatcher().addWatcher(new Watcher(ConfigMap, { namespace: ns, kubeConfig }));
    expect(m.delWatcher(ConfigMapList)).toBe(true);
    expect(m.watchers()).toEqual([]);
    const m2 = new MultiplexingWatcher().addWatcher(new Watcher(SecretList, { namespace: ns, kubeConfig }));
    expect(m2.delWatcher(Secret)).toBe(true);
    expect(m2.watchers()).toEqual([]);
  });
});

describe('410 by compaction while the consumer is away', () => {
  /** What a resync must deliver: the difference between what the consumer took and the server's state. */
  function difference(view: Map<string, string>, server: Map<string, string>): string[] {
    const out: string[] = [];
    for (const [name, rv] of server) {
      const had = view.get(name);
      if (had === undefined) out.push(`ADDED ${name} ${rv}`);
      else if (had !== rv) out.push(`MODIFIED ${name} ${rv}`);
    }
    for (const [name, rv] of view) if (!server.has(name)) out.push(`DELETED ${name} ${rv}`); // the tombstone: last known rv
    return sorted(out);
  }
  /** The consumer's view after taking these events. */
  function viewOf(lines: string[]): Map<string, string> {
    const view = new Map<string, string>();
    for (const l of lines) {
      const [type, name, rv] = l.split(' ') as [string, string, string];
      if (type === 'DELETED') view.delete(name);
      else if (type === 'ADDED' || type === 'MODIFIED') view.set(name, rv);
    }
    return view;
  }

  async function awayAndBack(ns: string, watcher: Watcher<typeof ConfigMap>, first: string[]) {
    // While nobody watches: a change, a deletion, a creation, then compaction past them all.
    await replaceConfigMap(ns, 'change', 'away');
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'remove' });
    await createConfigMaps(ns, ['new']);
    await cp.compact(await cp.etcdRevision());
    const server = await configMapState(ns);

    const c = new Collector(watcher.stream({ markers: true }));
    await settle(() => c.lines.includes('SYNCED') || c.ended);
    const sentinel = `ADDED sentinel ${(await createConfigMaps(ns, ['sentinel'])).sentinel}`;
    await settle(() => c.items.some((e) => fmt(e as Item) === sentinel) || c.ended);
    watcher.stop();
    await c.done;
    expect(c.error).toBeUndefined();
    const second = c.items.map((e) => fmt(e as Item));
    expect({ head: second[0], diff: sorted(second.slice(1, -2)), tail: second.slice(-2) }).toEqual({
      head: 'RESYNC',
      diff: difference(viewOf(first), server),
      tail: ['SYNCED', sentinel],
    });
    expect(twice([...first, ...second])).toEqual([]);
    // The DELETED tombstone: the object's identity as last delivered.
    const tombstone = c.items.find((e) => !isMarker(e as Item) && (e as WatchEvent<Meta>).type === 'DELETED') as
      | WatchEvent<ConfigMap>
      | undefined;
    expect(tombstone?.object.metadata).toMatchObject({
      name: 'remove',
      namespace: ns,
      resourceVersion: viewOf(first).get('remove'),
    });
    expect(watcher.health().relists).toBe(1);
  }

  it('stream, take all, break; changes and compaction; RESYNC, exactly the differences, SYNCED', async () => {
    const ns = await freshNamespace('ct-410');
    await createConfigMaps(ns, ['keep', 'change', 'remove']);
    const watcher = track(new Watcher(ConfigMap, { namespace: ns, kubeConfig }));
    const first: string[] = [];
    for await (const e of watcher.stream({ markers: true })) {
      first.push(fmt(e));
      if (e.type === 'SYNCED') break;
    }
    expect(sorted(first.slice(0, -1))).toEqual(sorted(addedLines(await configMapState(ns))));
    await awayAndBack(ns, watcher, first);
  });

  it('the same after a break inside a burst: what was not taken is part of the differences', async () => {
    const ns = await freshNamespace('ct-410');
    await createConfigMaps(ns, ['keep', 'change', 'remove', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6']);
    const spy = spyingTransport(kubeConfig);
    const watcher = track(new Watcher(ConfigMap, { namespace: ns, transport: spy.transport }));
    const first: string[] = [];
    let burstDone: Promise<unknown> | undefined;
    for await (const e of watcher.stream({ markers: true })) {
      const line = fmt(e);
      first.push(line);
      if (line === 'SYNCED') {
        // Away while the burst happens (as above): its events are read together.
        burstDone = Promise.all(['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'keep'].map((n) => replaceConfigMap(ns, n, 'burst')));
        await burstDone;
        await sleep(LAND_MS);
        continue;
      }
      if (burstDone && (eventsAfterInChunk(spy.chunks, line) > 0 || first.filter((l) => l.startsWith('MODIFIED')).length === 7))
        break;
    }
    await burstDone;
    expect(
      eventsAfterInChunk(spy.chunks, first.at(-1) as string),
      `no chunk of the burst held 2+ events: ${JSON.stringify(spy.chunks)}`,
    ).toBeGreaterThan(0);
    await awayAndBack(ns, watcher, first);
  });
});
