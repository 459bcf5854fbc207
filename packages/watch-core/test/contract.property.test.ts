// The loss-free contract, model-based: random server histories, server misbehaviour and consumer actions
// against SimulatedApiServer (@kwatch/testenv), on a manual clock. After every run, in managed mode:
// - once the server behaves and the consumer drains, the consumer's view (all streams of a watcher) equals the server;
// - no (key, resourceVersion) twice, and resourceVersions increase per object (except between RESYNC and SYNCED);
// - after stop() inside the loop, the loop sees nothing more;
// - per watcher at most 15 requests (LIST continuation pages aside) in any simulated second, 10 + 5·T in all.
// A failure prints fast-check's seed and path (replay: fc.assert(..., { seed, path })), the actions, a trace and the requests.
import { ConfigMap, Pod, Secret } from '@kwatch/models/v1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultiplexingWatcher, Watcher, type WatcherOptions } from '../src/index.ts';
import { type AnyItem, Consumer, checkRequestRate, seededRandom, Track, World } from './contractHarness.ts';

const KINDS = [
  { kind: ConfigMap, plural: 'configmaps' },
  { kind: Secret, plural: 'secrets' },
  { kind: Pod, plural: 'pods' },
] as const;
const NAMES = ['a', 'b', 'c', 'd', 'e'];
const BACKOFF = { initialMs: 800, maxMs: 5_000, resetAfterMs: 60_000 };
const SEED = 20_240_611;

// ---------------------------------------------------------------- actions

const resource = fc.integer({ min: 0, max: 2 });
const objectRef = fc.record({ r: resource, ns: fc.constantFrom('ns', 'other'), name: fc.constantFrom(...NAMES) });
const serverAction = fc.oneof(
  { weight: 5, arbitrary: objectRef.map((o) => ({ a: 'upsert' as const, ...o })) },
  { weight: 2, arbitrary: objectRef.map((o) => ({ a: 'delete' as const, ...o })) },
  {
    weight: 2,
    arbitrary: fc.record({
      a: fc.constant('burst' as const),
      r: resource,
      names: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ a: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ a: 'expire' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      a: fc.constant('chunking' as const),
      policy: fc.constantFrom(
        {},
        { eventsPerChunk: 1 },
        { eventsPerChunk: 3 },
        { maxChunkBytes: 60 },
        { eventsPerChunk: 2, maxChunkBytes: 300 },
      ),
    }),
  },
);
const modeAction = fc.oneof(
  fc.constant({ a: 'mode' as const, mode: { closeAtOnce: true } }),
  fc
    .constantFrom('event' as const, 'status' as const)
    .map((goneAs) => ({ a: 'mode' as const, mode: { goneForever: true, goneAs } })),
  fc
    .record({
      status: fc.constantFrom(500, 503, 429),
      retryAfterSeconds: fc.constantFrom(0, 1, 3),
      times: fc.constantFrom(1, 3, 1000),
    })
    .map((errors) => ({ a: 'mode' as const, mode: { errors } })),
  fc.constant({ a: 'mode' as const, mode: { watchListUnsupported: true } }),
  fc.constant({ a: 'mode' as const, mode: { stall: true } }),
  fc.constant({ a: 'heal' as const }),
);
const consumerAction = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 6 }).map((n) => ({ a: 'take' as const, n })) },
  { weight: 2, arbitrary: fc.constant({ a: 'break' as const }) },
  { weight: 1, arbitrary: fc.constant({ a: 'stop' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(100, 1_000, 5_000, 20_000).map((ms) => ({ a: 'hold' as const, ms })) },
);
const muxAction = fc.oneof(
  fc
    .constantFrom('add' as const, 'del' as const, 'readd' as const, 'replace' as const)
    .chain((a) => resource.map((i) => ({ a, i }))),
);
type ServerAction = typeof serverAction extends fc.Arbitrary<infer A> ? A : never;
type Action =
  | ServerAction
  | (typeof modeAction extends fc.Arbitrary<infer A> ? A : never)
  | (typeof consumerAction extends fc.Arbitrary<infer A> ? A : never)
  | (typeof muxAction extends fc.Arbitrary<infer A> ? A : never);

const show = (a: Action): string => JSON.stringify(a).replace(/"/g, '');

let counter = 0;
function applyServer(world: World, act: ServerAction): void {
  const { sim } = world;
  switch (act.a) {
    case 'upsert':
    case 'delete': {
      const plural = KINDS[act.r]!.plural;
      const key = `${act.ns}/${act.name}`;
      if (act.a === 'delete') {
        if (sim.get(plural, key)) sim.delete(plural, key);
      } else if (sim.get(plural, key)) sim.update(plural, key, { data: { v: String(++counter) } });
      else sim.create(plural, { metadata: { namespace: act.ns, name: act.name }, data: { v: String(++counter) } });
      return;
    }
    case 'burst': // in one synchronous turn: one chunk on the wire (unless the chunking splits it)
      for (const name of act.names) applyServer(world, { a: 'upsert', r: act.r, ns: 'ns', name });
      return;
    case 'compact':
      sim.compact();
      return;
    case 'expire':
      sim.expireWatches();
      return;
    case 'chunking':
      sim.chunking = act.policy;
      return;
  }
}

function seedObjects(world: World, plurals: readonly string[], count: number): void {
  for (const plural of plurals) {
    for (let i = 0; i < count; i++) {
      world.sim.create(plural, {
        metadata: { namespace: i % 2 ? 'other' : 'ns', name: NAMES[i % NAMES.length]! },
        data: { v: '0' },
      });
    }
  }
}

/** Runs `body` with Math.random seeded (the watcher's jitter), so a run replays exactly. */
async function withSeededRandom<R>(seed: number, body: () => Promise<R>): Promise<R> {
  const original = Math.random;
  Math.random = seededRandom(seed);
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}

/** Pulls until the consumer's views equal the server (then 10 s more of quiet), or 180 simulated seconds pass. */
async function drain(world: World, consumer: Consumer, diffs: () => string[], ended: () => boolean): Promise<void> {
  const deadline = world.clock.now() + 180_000;
  let equalSince: number | undefined;
  while (world.clock.now() < deadline && world.violations.length < 5) {
    const r = await consumer.pull(2_000);
    if (r === 'error') world.violate(`the stream failed while draining: ${String(consumer.error)}`);
    if (r === 'done' && !ended()) world.violate('the stream ended by itself while draining');
    if ((r === 'done' && !ended()) || r === 'error') break;
    if (diffs().length === 0) {
      equalSince ??= world.clock.now();
      if (world.clock.now() - equalSince >= 10_000) return;
    } else equalSince = undefined;
  }
  const d = diffs();
  if (d.length > 0) world.violate(`after draining, the view differs from the server: ${d.slice(0, 6).join('; ')}`);
}

async function consume(world: World, consumer: Consumer, act: Action, stop: () => void, endedOk: () => boolean): Promise<void> {
  if (act.a === 'take') {
    for (let i = 0; i < act.n; i++) {
      const r = await consumer.pull(3_000);
      if (r === 'quiet') return;
      if (r === 'error') world.violate(`the stream failed: ${String(consumer.error)}`);
      if (r === 'done' && !endedOk()) world.violate('the stream ended by itself');
      if (r !== 'item') return;
    }
  } else if (act.a === 'break') await consumer.break(stop);
  else if (act.a === 'stop') await consumer.stopInLoop(stop);
  else if (act.a === 'hold') await world.advance(act.ms);
}

// ---------------------------------------------------------------- one watcher

const watcherConfig = fc.record({
  watchList: fc.constantFrom('auto' as const, false),
  pageSize: fc.constantFrom(1, 2, 500),
  timeoutSeconds: fc.constantFrom(1, 5, 60),
  namespace: fc.constantFrom('ns', undefined),
  initialObjects: fc.integer({ min: 0, max: 5 }),
  random: fc.integer(),
});
const singleActions = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: serverAction },
    { weight: 1, arbitrary: modeAction },
    { weight: 4, arbitrary: consumerAction },
  ),
  {
    minLength: 4,
    maxLength: 30,
  },
);

async function runSingle(cfg: typeof watcherConfig extends fc.Arbitrary<infer C> ? C : never, actions: Action[]): Promise<void> {
  const world = new World();
  seedObjects(world, ['configmaps'], cfg.initialObjects);
  const watcher = new Watcher(ConfigMap, {
    namespace: cfg.namespace,
    transport: world.sim,
    clock: world.clock,
    backoff: BACKOFF,
    timeoutSeconds: cfg.timeoutSeconds,
    inactivityTimeoutMs: 3_000,
    pageSize: cfg.pageSize,
    watchList: cfg.watchList,
  });
  const track = new Track(world, 'ConfigMap');
  const allowances: number[] = [];
  const consumer = new Consumer(
    world,
    () => watcher.stream({ markers: true }) as AsyncGenerator<AnyItem, void, undefined>,
    (item) => track.deliver(item),
    () => {
      world.log('stream()');
      track.streamStarted();
    },
  );
  const stop = () => watcher.stop();
  await withSeededRandom(cfg.random, async () => {
    for (const act of actions) {
      world.log(`action ${show(act)}`);
      if (act.a === 'mode') world.sim.setModes(act.mode);
      else if (act.a === 'heal') world.sim.wellBehaved();
      else if (act.a === 'take' || act.a === 'break' || act.a === 'stop' || act.a === 'hold') {
        await consume(world, consumer, act, stop, () => false);
      } else if (act.a !== 'add' && act.a !== 'del' && act.a !== 'readd' && act.a !== 'replace') {
        applyServer(world, act as ServerAction);
        await world.advance(0);
      }
      if (world.violations.length > 0) break;
    }
    world.log('final: the server behaves, the consumer drains');
    world.sim.wellBehaved();
    if (world.violations.length === 0)
      await drain(
        world,
        consumer,
        () => track.diff('configmaps', cfg.namespace),
        () => false,
      );
    await consumer.break(stop);
    await world.advance(1_000);
  });
  checkRequestRate(
    world,
    world.sim.requests.filter((r) => r.path.endsWith('/configmaps')),
    allowances,
  );
  world.assertNoViolation(`config ${JSON.stringify(cfg)}\nactions: ${actions.map(show).join(', ')}`);
}

// ---------------------------------------------------------------- a multiplexer of 2–3 watchers

const muxConfig = fc.record({
  kinds: fc.constantFrom([0, 1], [0, 1, 2], [0, 2]),
  timeoutSeconds: fc.constantFrom(1, 5, 60),
  watchList: fc.constantFrom('auto' as const, false),
  initialObjects: fc.integer({ min: 0, max: 4 }),
  random: fc.integer(),
});
const muxActions = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: serverAction },
    { weight: 1, arbitrary: modeAction },
    { weight: 4, arbitrary: consumerAction },
    { weight: 2, arbitrary: muxAction },
  ),
  { minLength: 4, maxLength: 30 },
);

async function runMux(cfg: typeof muxConfig extends fc.Arbitrary<infer C> ? C : never, actions: Action[]): Promise<void> {
  const world = new World();
  seedObjects(
    world,
    KINDS.map((k) => k.plural),
    cfg.initialObjects,
  );
  const tracks = new Map<unknown, { track: Track; i: number }>();
  const current: Array<Watcher<any> | undefined> = [undefined, undefined, undefined];
  const allowances: number[][] = [[], [], []];
  let made = 0;
  const make = (i: number): Watcher<any> => {
    const w = new Watcher(KINDS[i]!.kind as typeof ConfigMap, {
      transport: world.sim,
      clock: world.clock,
      backoff: BACKOFF,
      timeoutSeconds: cfg.timeoutSeconds,
      inactivityTimeoutMs: 3_000,
      pageSize: 2,
      watchList: cfg.watchList,
    });
    tracks.set(w, { track: new Track(world, `${KINDS[i]!.kind.kind}#${++made}`), i });
    if (current[i]) allowances[i]!.push(world.clock.now()); // a replacement brings its own request budget
    current[i] = w;
    return w;
  };
  const mux = new MultiplexingWatcher({
    clock: world.clock,
    restartBackoff: BACKOFF,
    onCulled: (w, error) => world.violate(`${tracks.get(w)?.track.name} was culled: ${String(error)}`),
  });
  for (const i of cfg.kinds) mux.addWatcher(make(i));
  const streaming = () => consumer.iterator !== undefined;
  const consumer = new Consumer(
    world,
    () => mux.stream({ markers: true }) as AsyncGenerator<AnyItem, void, undefined>,
    (item) => {
      const t = tracks.get(item.watcher);
      if (t) t.track.deliver(item);
      else world.violate(`an item from an unknown watcher: ${item.type}`);
    },
    () => {
      world.log('mux.stream()');
      for (const w of mux.watchers()) {
        const t = tracks.get(w)!;
        t.track.streamStarted();
      }
    },
  );
  const stop = () => mux.stop();
  const inMux = (w: unknown) => mux.watchers().includes(w as Watcher<any>);
  await withSeededRandom(cfg.random, async () => {
    for (const act of actions) {
      world.log(`action ${show(act)}`);
      if (act.a === 'mode') world.sim.setModes(act.mode);
      else if (act.a === 'heal') world.sim.wellBehaved();
      else if (act.a === 'take' || act.a === 'break' || act.a === 'stop' || act.a === 'hold') {
        await consume(world, consumer, act, stop, () => mux.watchers().length === 0);
      } else if (act.a === 'add' || act.a === 'del' || act.a === 'readd' || act.a === 'replace') {
        const w = current[act.i];
        if (act.a === 'add' && w && !inMux(w)) mux.addWatcher(w);
        else if (act.a === 'add' && !w) mux.addWatcher(make(act.i));
        else if (act.a === 'del' && w) mux.delWatcher(w);
        else if (act.a === 'readd' && w) {
          mux.delWatcher(w);
          mux.addWatcher(w);
        } else if (act.a === 'replace') mux.addWatcher(make(act.i));
        if (streaming() && current[act.i]) tracks.get(current[act.i])!.track.streamStarted();
        await world.advance(0);
      } else {
        applyServer(world, act as ServerAction);
        await world.advance(0);
      }
      if (world.violations.length > 0) break;
    }
    world.log('final: the server behaves, every last watcher is in the multiplexer, the consumer drains');
    world.sim.wellBehaved();
    current.forEach((w) => {
      if (w && !inMux(w)) mux.addWatcher(w);
    });
    const diffs = () =>
      current.flatMap((w, i) =>
        w
          ? tracks
              .get(w)!
              .track.diff(KINDS[i]!.plural, undefined)
              .map((d) => `${tracks.get(w)!.track.name} ${d}`)
          : [],
      );
    if (world.violations.length === 0) await drain(world, consumer, diffs, () => mux.watchers().length === 0);
    await consumer.break(stop);
    await world.advance(1_000);
  });
  KINDS.forEach((k, i) => {
    checkRequestRate(
      world,
      world.sim.requests.filter((r) => r.path.endsWith(`/${k.plural}`)),
      allowances[i]!,
    );
  });
  world.assertNoViolation(`config ${JSON.stringify(cfg)}\nactions: ${actions.map(show).join(', ')}`);
}

// ---------------------------------------------------------------- the properties

describe('the loss-free contract (model-based, SimulatedApiServer)', () => {
  it('one watcher: nothing lost, nothing twice, in order, nothing after stop(), bounded requests', async () => {
    await fc.assert(
      fc.asyncProperty(watcherConfig, singleActions, (cfg, actions) => runSingle(cfg, actions)),
      { numRuns: 100, seed: SEED, verbose: 1 },
    );
  }, 60_000);

  it('a multiplexer of 2–3 watchers, added, deleted, re-added and replaced while streaming: the same', async () => {
    await fc.assert(
      fc.asyncProperty(muxConfig, muxActions, (cfg, actions) => runMux(cfg, actions)),
      { numRuns: 60, seed: SEED, verbose: 1 },
    );
  }, 60_000);
});

// ---------------------------------------------------------------- each known defect, as an example

function watcherOn(world: World, options: WatcherOptions<typeof ConfigMap> = {}) {
  return new Watcher(ConfigMap, {
    namespace: 'ns',
    transport: world.sim,
    clock: world.clock,
    backoff: BACKOFF,
    inactivityTimeoutMs: 3_000,
    ...options,
  });
}

function consumerOf(world: World, open: () => AsyncGenerator<any, void, undefined>, seen: string[]): Consumer {
  const track = new Track(world, 'w');
  return new Consumer(
    world,
    open,
    (item) => {
      track.deliver(item);
      seen.push(item.object ? `${item.type} ${item.object.metadata?.name}` : item.type);
    },
    () => track.streamStarted(),
  );
}

async function pullN(consumer: Consumer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) if ((await consumer.pull(5_000)) !== 'item') return;
}

describe('known defects (each fails on the code before the rewrite)', () => {
  it('(1) a chunk holds d@11, e@12, f@13; the consumer takes d and breaks; streaming again delivers e and f', async () => {
    const world = new World({ firstResourceVersion: 10 });
    const watcher = watcherOn(world, { resourceVersion: '10' });
    const seen: string[] = [];
    const consumer = consumerOf(world, () => watcher.stream(), seen);
    consumer.prime();
    await world.advance(0); // connected, waiting for the body
    for (const name of ['d', 'e', 'f']) world.sim.create('configmaps', { metadata: { namespace: 'ns', name } });
    expect(await consumer.pull(5_000)).toBe('item');
    expect(world.sim.get('configmaps', 'ns/f')?.metadata.resourceVersion).toBe('13');
    await consumer.break(() => watcher.stop());
    await pullN(consumer, 2);
    expect(seen).toEqual(['ADDED d', 'ADDED e', 'ADDED f']);
  });

  for (const watchList of [false, 'auto'] as const) {
    it(`(2) break after the first of three listed objects (${watchList ? 'WatchList' : 'LIST'}); streaming again delivers the other two, then SYNCED`, async () => {
      const world = new World();
      for (const name of ['a', 'b', 'c']) world.sim.create('configmaps', { metadata: { namespace: 'ns', name } });
      const watcher = watcherOn(world, { watchList });
      const seen: string[] = [];
      const consumer = consumerOf(world, () => watcher.stream({ markers: true }), seen);
      await pullN(consumer, 1);
      await consumer.break(() => watcher.stop());
      await pullN(consumer, 3);
      expect(seen).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'SYNCED']);
    });
  }

  it('(3) stop() inside the loop: no further event, although the rest of a 500-object LIST page is buffered', async () => {
    const world = new World();
    for (let i = 0; i < 500; i++)
      world.sim.create('configmaps', { metadata: { namespace: 'ns', name: `cm${String(i).padStart(3, '0')}` } });
    const watcher = watcherOn(world, { watchList: false });
    const seen: string[] = [];
    const consumer = consumerOf(world, () => watcher.stream(), seen);
    await pullN(consumer, 1);
    await consumer.stopInLoop(() => watcher.stop());
    expect(world.violations).toEqual([]);
    expect(seen).toEqual(['ADDED cm000']);
  });

  it('(4a) multiplexer: break, then stream() again at once: no watcher is culled, events keep coming', async () => {
    const world = new World();
    const culled: string[] = [];
    const mux = new MultiplexingWatcher({
      clock: world.clock,
      restartBackoff: BACKOFF,
      onCulled: (_w, e) => culled.push(String(e)),
    })
      .addWatcher(watcherOn(world))
      .addWatcher(new Watcher(Secret, { namespace: 'ns', transport: world.sim, clock: world.clock, backoff: BACKOFF }));
    world.sim.create('configmaps', { metadata: { namespace: 'ns', name: 'a' } });
    const seen: string[] = [];
    const consumer = consumerOf(world, () => mux.stream(), seen);
    await pullN(consumer, 1);
    await consumer.break(() => mux.stop());
    consumer.prime(); // at once, as `for await (const e of mux.stream())` right after the loop that broke
    await world.advance(0);
    world.sim.create('secrets', { metadata: { namespace: 'ns', name: 's' } });
    await pullN(consumer, 1);
    await world.advance(2_000);
    expect(culled).toEqual([]);
    expect(mux.watchers()).toHaveLength(2);
    expect(seen).toContain('ADDED s');
  });

  it('(4b) multiplexer: delWatcher(w) then addWatcher(w) while streaming: w keeps streaming, nothing lost', async () => {
    const world = new World();
    const culled: string[] = [];
    const w = watcherOn(world);
    const mux = new MultiplexingWatcher({
      clock: world.clock,
      restartBackoff: BACKOFF,
      onCulled: (_w, e) => culled.push(String(e)),
    })
      .addWatcher(w)
      .addWatcher(new Watcher(Secret, { namespace: 'ns', transport: world.sim, clock: world.clock, backoff: BACKOFF }));
    world.sim.create('configmaps', { metadata: { namespace: 'ns', name: 'a' } });
    const seen: string[] = [];
    const consumer = consumerOf(world, () => mux.stream(), seen);
    await pullN(consumer, 1);
    world.sim.create('configmaps', { metadata: { namespace: 'ns', name: 'b' } });
    await world.advance(0);
    mux.delWatcher(w);
    mux.addWatcher(w);
    world.sim.create('configmaps', { metadata: { namespace: 'ns', name: 'c' } });
    await pullN(consumer, 2);
    await world.advance(2_000);
    expect(culled).toEqual([]);
    expect(seen).toEqual(['ADDED a', 'ADDED b', 'ADDED c']);
  });

  for (const mode of [
    { closeAtOnce: true },
    { goneForever: true, goneAs: 'event' as const },
    { goneForever: true, goneAs: 'status' as const },
  ]) {
    it(`(6) ${JSON.stringify(mode)}: at most 15 requests in any second and 10 + 5·T in all`, async () => {
      const world = new World({ runawayLimit: 200 });
      world.sim.create('configmaps', { metadata: { namespace: 'ns', name: 'a' } });
      const watcher = watcherOn(world);
      const seen: string[] = [];
      const consumer = consumerOf(world, () => watcher.stream(), seen);
      await withSeededRandom(1, async () => {
        expect(await consumer.pull(1_000)).toBe('item'); // synced, watching
        world.sim.setModes(mode);
        world.sim.closeWatches();
        await consumer.pull(30_000);
        await consumer.break(() => watcher.stop());
      });
      checkRequestRate(world, world.sim.requests, []);
      expect(world.violations, `${world.sim.requests.length} requests in ${world.elapsed} s`).toEqual([]);
    });
  }
});
