// InformerFactory at its edges, model-based (issue 18). Random subscribers of one factory — streams with markers and
// store().events() iterations, on two watch identities — join late, return() before the first pull or while a next()
// is pending, leave by `await using`, an abort or throw(), pull slowly (queues of 1–6 overflow, also during the initial
// sync), leave and rejoin; bare store handles come and go; the server changes (recreates with a new uid included),
// compacts, and switches at random into hostile modes (watches closed at once, 410 forever, 5xx/429, 403, stalls,
// WatchList refused, LIST continue loops) and back. The invariants:
// - nothing lost: a subscriber still subscribed at the end converges to the server (its items applied, tombstones
//   included); at every SYNCED its view is the server's state at that resourceVersion; its first SYNCED is initial;
//   a store handle still held is in sync with the server;
// - nothing twice: no ADDED for a key held (same uid and version: twice), no MODIFIED or DELETED for one not held, no
//   MODIFIED across uids (a recreate is DELETED then ADDED), versions only forward; a store change's `old` (and a
//   DELETED's object) is what the subscriber held; a tombstone names the version held;
// - nothing held after leaving: return(), throw(), the abort and `await using` settle within 100 ms (a pending next()
//   settles done); a watch never has more holders than the subscribers and handles still there; once all left and
//   graceMs passed, informers.watches() is empty, the simulator has no open watch and the clock no timer;
// - requests per watch identity (counted at the simulator, LIST continuation pages included): in any window of Δ
//   seconds at most 10 + 5·Δ, not counting the pages an honest paginated list earns (docs/watching.md, Pacing: a page
//   after a full page of objects new to its list, under a continue token new to it).
// A failure prints fast-check's seed and path, the run's config and actions, a trace and the last requests. Replay:
// KWATCH_FC_SEED=<seed> KWATCH_FC_PATH=<path>; explore: KWATCH_FC_SEED=<other> KWATCH_FC_RUNS=<n>.
import { ConfigMap } from '@kwatch/models/v1';
import type { SimModes, SimRequest } from '@kwatch/testenv';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import {
  InformerFactory,
  isKwatchError,
  isMarker,
  type SharedStore,
  type StoreChange,
  type WatchEvent,
  type WatchMarker,
} from '../src/index.ts';
import { seededRandom, settle, World } from './contractHarness.ts';

const NAMES = ['a', 'b', 'c', 'd'];
const NAMESPACES = ['ns', 'other'] as const;
/** The two watch identities subscribers choose from: one namespace, and all namespaces. */
const IDENTITIES = [
  { label: 'ns', namespace: 'ns' as string | undefined, path: '/api/v1/namespaces/ns/configmaps' },
  { label: 'all', namespace: undefined as string | undefined, path: '/api/v1/configmaps' },
] as const;
type Identity = (typeof IDENTITIES)[number];
const BACKOFF = { initialMs: 800, maxMs: 5_000, resetAfterMs: 60_000 };
// Seed 3 finds the bug of informers.edges.repro.test.ts within its first 10 runs (when it is put back).
const SEED = Number(process.env.KWATCH_FC_SEED ?? 3);
const RUNS = Number(process.env.KWATCH_FC_RUNS ?? 100);
/** How long return(), throw(), an abort or the end of an `await using` may take to settle: 100 ms. */
const LEAVE_MS = 100;

// ---------------------------------------------------------------- actions

const ns = fc.constantFrom(...NAMESPACES);
const name = fc.constantFrom(...NAMES);
const who = fc.nat(19);
const id = fc.constantFrom(0, 1);
const bufferSize = fc.integer({ min: 1, max: 6 });
const via = fc.constantFrom('stream' as const, 'events' as const);
const leaveHow = fc.constantFrom(
  'return' as const,
  'throw' as const,
  'abort' as const,
  'returnPending' as const,
  'abortPending' as const,
);

const HOSTILE: ReadonlyArray<Partial<SimModes>> = [
  { closeAtOnce: true },
  { goneForever: true, goneAs: 'event' },
  { goneForever: true, goneAs: 'status' },
  { errors: { status: 500 } },
  { errors: { status: 503, retryAfterSeconds: 1 } },
  { errors: { status: 429, retryAfterSeconds: 3, times: 3 } },
  { errors: { status: 403 } },
  { watchListUnsupported: true },
  { stall: true },
  { listLoop: 'repeatToken' },
  { listLoop: 'sameObjects' },
  { listLoop: 'repeatToken', watchListUnsupported: true },
  { listLoop: 'sameObjects', watchListUnsupported: true },
  { listLoop: 'repeatToken', goneForever: true }, // every watch 410: relist after relist into a continue loop
  { listLoop: 'sameObjects', goneForever: true, goneAs: 'status' },
];

const action = fc.oneof(
  // the server
  { weight: 6, arbitrary: fc.record({ a: fc.constant('upsert' as const), ns, name }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('delete' as const), ns, name }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('recreate' as const), ns, name }) },
  {
    weight: 2,
    arbitrary: fc.record({ a: fc.constant('burst' as const), ns, names: fc.uniqueArray(name, { minLength: 2 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ a: 'compact' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      a: fc.constant('mode' as const),
      m: fc.nat(HOSTILE.length - 1),
      // What happens to the watches open when it starts misbehaving: nothing, a clean end (a timeout), or 410.
      kick: fc.constantFrom('none' as const, 'close' as const, 'close' as const, 'expire' as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ a: 'heal' as const }) },
  // time
  { weight: 5, arbitrary: fc.constantFrom(20, 200, 1_000, 3_000).map((ms) => ({ a: 'advance' as const, ms })) },
  // subscribers
  {
    weight: 6,
    // `pulls`: items it takes at once (what is ready), before it turns slow.
    arbitrary: fc.record({ a: fc.constant('join' as const), id, via, bufferSize, pulls: fc.integer({ min: 0, max: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      a: fc.constant('joinLeave' as const),
      id,
      via,
      how: fc.constantFrom('return' as const, 'using' as const, 'abort' as const, 'throw' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('using' as const), id, bufferSize, n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 6, arbitrary: fc.record({ a: fc.constant('pull' as const), who, n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('pullWait' as const), who, ms: fc.constantFrom(100, 1_000) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('leave' as const), who, how: leaveHow }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('rejoin' as const), who, how: leaveHow }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('handle' as const), id }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('release' as const), who }) },
  { weight: 1, arbitrary: fc.constant({ a: 'stop' as const }) },
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;
type LeaveHow = Extract<Action, { a: 'leave' }>['how'];

const config = fc.record({
  graceMs: fc.constantFrom(0, 300, 1_000),
  watchList: fc.constantFrom('auto' as const, false),
  pageSize: fc.constantFrom(1, 2, 500),
  timeoutSeconds: fc.constantFrom(5, 60),
  initialObjects: fc.integer({ min: 0, max: 8 }),
  first: fc.record({ id, via, bufferSize }),
  random: fc.integer(),
});
type Config = typeof config extends fc.Arbitrary<infer C> ? C : never;

const show = (a: unknown): string => JSON.stringify(a).replace(/"/g, '');

/** What the runs exercised (printed with KWATCH_EDGES_STATS=1): how often each edge was reached. */
const reached = new Map<string, number>();
const reach = (what: string): void => void reached.set(what, (reached.get(what) ?? 0) + 1);
let slowestRunMs = 0;

// ---------------------------------------------------------------- the server, as the model knows it

type Held = { uid: string; rv: number };
const fmt = (h: Held | undefined): string => (h ? `${h.uid.slice(-3)}@${h.rv}` : 'nothing');

/** Every change made to the server, so that its state at any resourceVersion is known. */
class ServerModel {
  readonly #changes: Array<{ rv: number; key: string; uid: string; deleted: boolean }> = [];
  readonly #world: World;
  #counter = 0;

  constructor(world: World) {
    this.#world = world;
  }

  upsert(namespace: string, name: string): void {
    const { sim } = this.#world;
    const key = `${namespace}/${name}`;
    const o = sim.get('configmaps', key)
      ? sim.update('configmaps', key, { data: { v: String(++this.#counter) } })
      : sim.create('configmaps', { metadata: { namespace, name }, data: { v: String(++this.#counter) } });
    this.#record(o.metadata, false);
  }

  delete(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.#world.sim.get('configmaps', key)) this.#record(this.#world.sim.delete('configmaps', key).metadata, true);
  }

  /** Deleted and created again in one synchronous turn: a new uid under the same key. */
  recreate(namespace: string, name: string): void {
    this.delete(namespace, name);
    this.upsert(namespace, name);
  }

  /** The server's objects of `identity` at resourceVersion `rv` (default: now). */
  stateAt(identity: Identity, rv = Number.POSITIVE_INFINITY): Map<string, Held> {
    const out = new Map<string, Held>();
    for (const c of this.#changes) {
      if (c.rv > rv) break;
      if (identity.namespace !== undefined && !c.key.startsWith(`${identity.namespace}/`)) continue;
      if (c.deleted) out.delete(c.key);
      else out.set(c.key, { uid: c.uid, rv: c.rv });
    }
    return out;
  }

  #record(meta: { namespace?: string; name: string; uid: string; resourceVersion: string }, deleted: boolean): void {
    this.#changes.push({ rv: Number(meta.resourceVersion), key: `${meta.namespace}/${meta.name}`, uid: meta.uid, deleted });
  }
}

/** The differences between a view and the expected state, for a violation message. */
function diff(view: ReadonlyMap<string, Held>, expected: ReadonlyMap<string, Held>): string[] {
  const out: string[] = [];
  for (const [key, want] of expected) {
    const got = view.get(key);
    if (!got) out.push(`${key} missing (server ${fmt(want)})`);
    else if (got.uid !== want.uid || got.rv !== want.rv) out.push(`${key} ${fmt(got)}, server ${fmt(want)}`);
  }
  for (const [key, got] of view) if (!expected.has(key)) out.push(`${key} ${fmt(got)} held, gone on the server`);
  return out;
}

// ---------------------------------------------------------------- subscribers

type Slot = { settled: boolean; result?: IteratorResult<unknown, void>; error?: unknown };
type Item = WatchEvent<ConfigMap> | WatchMarker;
type Meta = { name?: string; namespace?: string; uid?: string; resourceVersion?: string };

/** Whether a promise settled, and how; never rejects. */
function track(p: Promise<unknown>): Slot {
  const slot: Slot = { settled: false };
  p.then(
    (result) => Object.assign(slot, { settled: true, result }),
    (error: unknown) => Object.assign(slot, { settled: true, error }),
  );
  return slot;
}

/** One subscriber: a stream of the factory, or an events() iteration of a store handle; the view its items build. */
class Subscriber {
  readonly label: string;
  readonly identity: Identity;
  readonly via: 'stream' | 'events';
  readonly view = new Map<string, Held>();
  readonly ctl = new AbortController();
  readonly iterator: AsyncGenerator<unknown, void, undefined>;
  readonly handle: SharedStore<ConfigMap> | undefined;
  /** live: still subscribed; left: it left (or tried to); ended/failed: its iteration ended by itself or rejected. */
  status: 'live' | 'left' | 'ended' | 'failed' = 'live';
  /** The factory was stopped while it was subscribed: its iteration ends (done, or ABORTED). */
  stopped = false;
  /** A 403 mode was on while it was subscribed: its iteration may reject with FORBIDDEN. */
  mayFail: boolean;
  slot: Slot | undefined;
  /** Items taken so far. */
  taken = 0;
  readonly bufferSize: number;
  #synced = false;
  /** Between a RESYNC and its SYNCED: the uid each key was deleted with in it (a difference never re-adds that uid). */
  #window: Map<string, string> | undefined;
  readonly #run: EdgeRun;

  constructor(run: EdgeRun, label: string, identity: Identity, via: 'stream' | 'events', bufferSize: number) {
    this.#run = run;
    this.label = label;
    this.identity = identity;
    this.via = via;
    this.mayFail = run.forbidden;
    this.bufferSize = bufferSize;
    const options = { namespace: identity.namespace, bufferSize, signal: this.ctl.signal };
    if (via === 'stream') {
      this.iterator = run.informers.stream(ConfigMap, { ...options, markers: true }) as AsyncGenerator<unknown, void, undefined>;
    } else {
      this.handle = run.informers.store(ConfigMap, { namespace: identity.namespace });
      this.iterator = this.handle.events({ bufferSize, signal: this.ctl.signal }) as AsyncGenerator<unknown, void, undefined>;
      // Subscribed when called: the store's objects now, then every change from now on.
      for (const o of this.handle.list()) {
        const m = o.metadata as Meta;
        this.view.set(`${m.namespace}/${m.name}`, { uid: m.uid ?? '', rv: Number(m.resourceVersion) });
      }
    }
  }

  get pending(): boolean {
    return this.slot !== undefined && !this.slot.settled;
  }

  /** Starts a next() unless one is outstanding. */
  prime(): Slot {
    this.slot ??= track(this.iterator.next());
    return this.slot;
  }

  /** Takes the outstanding next() if it settled: applies its item, or notes the end. Returns whether it took one. */
  take(): boolean {
    const slot = this.slot;
    if (!slot?.settled) return false;
    this.slot = undefined;
    const w = this.#run.world;
    if (slot.error !== undefined || !slot.result) {
      const code = isKwatchError(slot.error) ? slot.error.code : String(slot.error);
      reach(`${this.via}: failed with ${code}`);
      w.log(`${this.label} ✗ ${code}`);
      if (this.status === 'live') {
        this.status = 'failed';
        const expected = (this.mayFail && code === 'FORBIDDEN') || (this.stopped && code === 'ABORTED');
        if (!expected) w.violate(`${this.label}: the iteration failed with ${code}`);
      }
      return false;
    }
    if (slot.result.done) {
      w.log(`${this.label} done`);
      if (this.status === 'live') {
        this.status = 'ended';
        if (!this.stopped) w.violate(`${this.label}: the iteration ended by itself`);
      }
      return false;
    }
    if (this.status !== 'live') w.violate(`${this.label}: got an item after it left`);
    this.taken += 1;
    if (this.via === 'stream') this.#item(slot.result.value as Item);
    else this.#change(slot.result.value as StoreChange<ConfigMap>);
    return true;
  }

  /** Takes up to `n` items that are ready, without letting simulated time pass. */
  async pullReady(n: number): Promise<void> {
    for (let i = 0; i < n && this.status === 'live'; i++) {
      this.prime();
      await settle();
      if (!this.take()) return;
    }
  }

  /** Takes one item, letting up to `ms` of simulated time pass for it (timer by timer). */
  async pullWait(ms: number): Promise<void> {
    if (this.status !== 'live') return;
    const slot = this.prime();
    const w = this.#run.world;
    const deadline = w.clock.now() + ms;
    for (;;) {
      await settle();
      if (slot.settled || w.clock.now() >= deadline) break;
      const next = w.clock.nextTimerAt();
      if (next === undefined || next > deadline) w.clock.advanceTo(deadline);
      else w.clock.runNext();
    }
    this.take();
  }

  /** Whether the view equals the server now. */
  converged(): boolean {
    return diff(this.view, this.#run.model.stateAt(this.identity)).length === 0;
  }

  #violate(what: string): void {
    this.#run.world.violate(`${this.label}: ${what}`);
  }

  /** An item of a factory stream (markers on). */
  #item(e: Item): void {
    const w = this.#run.world;
    if (isMarker(e)) {
      w.log(
        `${this.label} ← ${e.type}${e.type === 'SYNCED' ? ` rv=${e.resourceVersion}${e.initial ? ' initial' : ''}` : ` ${e.reason?.code}`}`,
      );
      reach(
        `stream: ${e.type}${e.type === 'RESYNC' ? ` ${e.reason?.code}` : e.initial ? ' initial' : ''}${this.#synced ? '' : ' before its first SYNCED'}`,
      );
      if (!this.#synced && this.taken > this.bufferSize + 1)
        reach('stream: more items before its first SYNCED than its queue holds');
      if (e.type === 'RESYNC') this.#window = new Map();
      if (e.type !== 'SYNCED') return;
      this.#window = undefined;
      if (!this.#synced && !e.initial) this.#violate('its first SYNCED is not initial');
      if (this.#synced && e.initial) this.#violate('a SYNCED after its first one says initial');
      this.#synced = true;
      if (e.resourceVersion !== undefined) {
        const d = diff(this.view, this.#run.model.stateAt(this.identity, Number(e.resourceVersion)));
        if (d.length > 0) this.#violate(`at SYNCED rv=${e.resourceVersion} its view is not the server's: ${d.join('; ')}`);
      }
      return;
    }
    const meta = e.object.metadata as Meta;
    const key = `${meta.namespace}/${meta.name}`;
    const now = { uid: meta.uid ?? '', rv: Number(meta.resourceVersion) };
    const held = this.view.get(key);
    w.log(`${this.label} ← ${e.type}${e.synthetic ? '*' : ''}${e.tombstone ? '†' : ''} ${key} ${fmt(now)}`);
    reach(`stream: ${e.type}${e.synthetic ? ' synthetic' : ''}${e.tombstone ? ' tombstone' : ''}`);
    if (this.identity.namespace !== undefined && meta.namespace !== this.identity.namespace) {
      this.#violate(`${key} is not in namespace ${this.identity.namespace}`);
    }
    if (e.type === 'ADDED') {
      if (held)
        this.#violate(
          `ADDED ${key} ${fmt(now)} while holding ${fmt(held)}${held.uid === now.uid && held.rv === now.rv ? ' (twice)' : ''}`,
        );
      if (this.#window?.get(key) === now.uid) this.#violate(`a resync DELETED then ADDED ${key} ${fmt(now)}: not the difference`);
      this.view.set(key, now);
    } else if (!held) {
      this.#violate(`${e.type} ${key} ${fmt(now)}, which it does not hold`);
      if (e.type === 'MODIFIED') this.view.set(key, now);
    } else if (e.type === 'MODIFIED') {
      if (held.uid !== now.uid) this.#violate(`MODIFIED ${key} across uids: ${fmt(held)} → ${fmt(now)}`);
      else if (now.rv <= held.rv) this.#violate(`MODIFIED ${key} ${fmt(now)}, not newer than ${fmt(held)}`);
      this.view.set(key, now);
    } else {
      if (held.uid !== now.uid) this.#violate(`DELETED ${key} ${fmt(now)}, it holds ${fmt(held)}`);
      else if (e.tombstone ? now.rv !== held.rv : now.rv < held.rv) {
        this.#violate(`DELETED${e.tombstone ? ' (tombstone)' : ''} ${key} ${fmt(now)}, it holds ${fmt(held)}`);
      }
      this.#window?.set(key, held.uid);
      this.view.delete(key);
    }
  }

  /** A change of store.events(): `old` (and a DELETED's object) must be what it held. */
  #change(c: StoreChange<ConfigMap>): void {
    const meta = c.object.metadata as Meta;
    const key = `${meta.namespace}/${meta.name}`;
    const now = { uid: meta.uid ?? '', rv: Number(meta.resourceVersion) };
    const oldMeta = c.old?.metadata as Meta | undefined;
    const old = oldMeta && { uid: oldMeta.uid ?? '', rv: Number(oldMeta.resourceVersion) };
    const held = this.view.get(key);
    const same = (a: Held | undefined, b: Held | undefined) => a?.uid === b?.uid && a?.rv === b?.rv;
    this.#run.world.log(`${this.label} ← ${c.type}${c.synthetic ? '*' : ''} ${key} ${fmt(now)} (old ${fmt(old)})`);
    reach(`events: ${c.type}${c.synthetic ? ' synthetic' : ''}`);
    if (c.type === 'ADDED') {
      if (held) this.#violate(`ADDED ${key} ${fmt(now)} while holding ${fmt(held)}${same(held, now) ? ' (twice)' : ''}`);
      this.view.set(key, now);
      return;
    }
    if (!held) this.#violate(`${c.type} ${key} ${fmt(now)}, which it does not hold`);
    else if (!same(old, held)) this.#violate(`${c.type} ${key}: old is ${fmt(old)}, it held ${fmt(held)}`);
    if (c.type === 'MODIFIED') {
      if (held && held.uid !== now.uid) this.#violate(`MODIFIED ${key} across uids: ${fmt(held)} → ${fmt(now)}`);
      else if (held && now.rv <= held.rv) this.#violate(`MODIFIED ${key} ${fmt(now)}, not newer than ${fmt(held)}`);
      this.view.set(key, now);
    } else {
      if (held && !same(now, held)) this.#violate(`DELETED ${key} carries ${fmt(now)}, it held ${fmt(held)}`);
      this.view.delete(key);
    }
  }
}

/** A bare store handle. */
interface Handle {
  readonly label: string;
  readonly identity: Identity;
  readonly handle: SharedStore<ConfigMap>;
  mayFail: boolean;
  released: boolean;
  failed: boolean;
}

// ---------------------------------------------------------------- one run

class EdgeRun {
  readonly world = new World();
  readonly model = new ServerModel(this.world);
  readonly informers: InformerFactory;
  readonly subs: Subscriber[] = [];
  readonly handles: Handle[] = [];
  readonly cfg: Config;
  forbidden = false;
  #seq = 0;

  constructor(cfg: Config) {
    this.cfg = cfg;
    for (let i = 0; i < cfg.initialObjects; i++) {
      this.model.upsert(NAMESPACES[i % 2] as string, NAMES[Math.floor(i / 2) % NAMES.length] as string);
    }
    this.informers = new InformerFactory({
      transport: this.world.sim,
      clock: this.world.clock,
      graceMs: cfg.graceMs,
      watcherOptions: {
        backoff: BACKOFF,
        watchList: cfg.watchList,
        pageSize: cfg.pageSize,
        timeoutSeconds: cfg.timeoutSeconds,
        inactivityTimeoutMs: 3_000,
      },
    });
  }

  get live(): Subscriber[] {
    return this.subs.filter((s) => s.status === 'live');
  }

  join(identity: Identity, via: 'stream' | 'events', bufferSize: number): Subscriber {
    const s = new Subscriber(
      this,
      `${via === 'stream' ? 's' : 'e'}${++this.#seq}(${identity.label},q${bufferSize})`,
      identity,
      via,
      bufferSize,
    );
    this.subs.push(s);
    this.world.log(`${s.label} joins`);
    return s;
  }

  addHandle(identity: Identity): Handle {
    const h: Handle = {
      label: `h${++this.#seq}(${identity.label})`,
      identity,
      handle: this.informers.store(ConfigMap, { namespace: identity.namespace }),
      mayFail: this.forbidden,
      released: false,
      failed: false,
    };
    this.handles.push(h);
    return h;
  }

  /** Lets `p` settle within `ms` of simulated time (timer by timer, the code running in between); how it did. */
  async within(p: Promise<unknown> | Slot, ms = LEAVE_MS): Promise<Slot> {
    const slot = 'settled' in p ? p : track(p);
    const { clock } = this.world;
    const deadline = clock.now() + ms;
    for (let i = 0; i < 5_000; i++) {
      await settle();
      if (slot.settled || clock.now() >= deadline) return slot;
      const next = clock.nextTimerAt();
      clock.advanceTo(next === undefined ? deadline : Math.min(deadline, next));
    }
    this.world.violate('livelock: timers fire without simulated time passing');
    return slot;
  }

  /** The subscriber leaves as `how` says; every way must settle within 100 ms and let go of what it held. */
  async leave(s: Subscriber, how: LeaveHow): Promise<void> {
    const w = this.world;
    s.take(); // what arrived is taken first, as `for await` would
    if (s.status !== 'live') return;
    if (how === 'returnPending' || how === 'abortPending') {
      // Pulls what is ready, so that a next() is left waiting for something not there yet.
      for (let i = 0; i < 100 && s.status === 'live'; i++) {
        s.prime();
        await settle();
        if (!s.take()) break;
      }
      if (s.status !== 'live') return;
    } else if (s.pending) {
      how = how === 'abort' ? 'abortPending' : 'returnPending'; // as `for await` would: its loop is waiting
    }
    const pending = s.slot;
    w.log(`${s.label} leaves: ${how}${pending ? ' (a next() is pending)' : ''}`);
    reach(`leave: ${s.via} ${how}${s.taken === 0 && !pending ? ' before the first pull' : ''}`);
    s.status = 'left';
    let ended: Slot | undefined;
    if (how === 'abort' || how === 'abortPending') s.ctl.abort();
    else if (how === 'throw') ended = track(s.iterator.throw(new Error('leaving')));
    else ended = track(s.iterator.return(undefined));
    if (ended) {
      await this.within(ended);
      if (!ended.settled) w.violate(`${s.label}: ${how === 'throw' ? 'throw()' : 'return()'} did not settle within 100 ms`);
      else if (how !== 'throw' && ended.error !== undefined) w.violate(`${s.label}: return() rejected: ${String(ended.error)}`);
    }
    if (pending) {
      await this.within(pending);
      if (!pending.settled) w.violate(`${s.label}: a pending next() did not settle within 100 ms of ${how}`);
      else if (pending.error !== undefined)
        w.violate(`${s.label}: a pending next() rejected after ${how}: ${String(pending.error)}`);
      else if (!pending.result?.done) w.violate(`${s.label}: a pending next() settled with an item after ${how}, not done`);
      s.slot = undefined;
    }
    s.handle?.release();
    await settle();
    this.checkHolders(`after ${s.label} left (${how})`);
  }

  /** No watch has more holders than the subscribers and handles still there (a leak is a holder kept after leaving). */
  checkHolders(when: string): void {
    for (const identity of IDENTITIES) {
      const there =
        this.subs.filter((s) => s.identity === identity && s.status === 'live').length +
        this.subs.filter((s) => s.identity === identity && s.handle && !s.handle.released && s.status !== 'live').length +
        this.handles.filter((h) => h.identity === identity && !h.released).length;
      const holders = this.informers
        .watches()
        .filter((w) => w.key.includes(identity.path))
        .reduce((n, w) => n + w.holders, 0);
      if (holders > there) this.world.violate(`${when}: the ${identity.label} watch has ${holders} holders, ${there} are there`);
    }
  }

  pick<T>(list: T[], who: number): T | undefined {
    return list.length === 0 ? undefined : list[who % list.length];
  }

  async act(act: Action): Promise<void> {
    const w = this.world;
    w.log(`action ${show(act)}`);
    switch (act.a) {
      case 'upsert':
        this.model.upsert(act.ns, act.name);
        break;
      case 'delete':
        this.model.delete(act.ns, act.name);
        break;
      case 'recreate':
        this.model.recreate(act.ns, act.name);
        break;
      case 'burst':
        for (const n of act.names) this.model.upsert(act.ns, n);
        break;
      case 'compact':
        w.sim.compact();
        w.sim.expireWatches();
        break;
      case 'mode': {
        const mode = HOSTILE[act.m] as Partial<SimModes>;
        w.sim.wellBehaved();
        w.sim.setModes(mode);
        this.forbidden = mode.errors?.status === 403;
        if (act.kick === 'close') w.sim.closeWatches();
        if (act.kick === 'expire') w.sim.expireWatches();
        if (this.forbidden) {
          for (const s of this.live) s.mayFail = true;
          for (const h of this.handles) if (!h.released) h.mayFail = true;
        }
        break;
      }
      case 'heal':
        w.sim.wellBehaved();
        this.forbidden = false;
        break;
      case 'advance':
        await w.advance(act.ms);
        break;
      case 'join':
        await this.join(IDENTITIES[act.id], act.via, act.bufferSize).pullReady(act.pulls);
        break;
      case 'joinLeave': {
        const s = this.join(IDENTITIES[act.id], act.via, 2);
        if (act.how === 'using') {
          reach(`leave: ${s.via} await using before the first pull`);
          s.status = 'left';
          const scope = (async () => {
            await using _ = s.iterator;
          })();
          const ended = await this.within(scope);
          if (!ended.settled) w.violate(`${s.label}: the end of \`await using\` did not settle within 100 ms`);
          s.handle?.release();
          await settle();
          this.checkHolders(`after ${s.label} left (await using, no pull)`);
        } else await this.leave(s, act.how);
        break;
      }
      case 'using': {
        const s = this.join(IDENTITIES[act.id], 'stream', act.bufferSize);
        let bodyDone = false;
        const scope = track(
          (async () => {
            await using _ = s.iterator;
            await s.pullReady(act.n);
            s.status = 'left';
            bodyDone = true; // the scope's end: its iterator is disposed from here
          })(),
        );
        for (let i = 0; i < 100 && !bodyDone && !scope.settled; i++) await settle();
        reach(`leave: stream await using${s.slot && !s.slot.settled ? ' (a next() is pending)' : ''}`);
        await this.within(scope);
        if (!scope.settled) w.violate(`${s.label}: the end of \`await using\` did not settle within 100 ms`);
        if (s.slot && !s.slot.settled) {
          await this.within(s.slot);
          if (!s.slot.settled) w.violate(`${s.label}: a pending next() did not settle within 100 ms of \`await using\`'s end`);
        }
        s.status = 'left';
        await settle();
        this.checkHolders(`after ${s.label} left (await using)`);
        break;
      }
      case 'pull':
        await this.pick(this.live, act.who)?.pullReady(act.n);
        break;
      case 'pullWait':
        await this.pick(this.live, act.who)?.pullWait(act.ms);
        break;
      case 'leave': {
        const s = this.pick(this.live, act.who);
        if (s) await this.leave(s, act.how);
        break;
      }
      case 'rejoin': {
        const s = this.pick(this.live, act.who);
        if (!s) break;
        await this.leave(s, act.how);
        this.join(s.identity, s.via, 4);
        break;
      }
      case 'handle':
        this.addHandle(IDENTITIES[act.id]);
        break;
      case 'stop':
        await this.stopFactory();
        break;
      case 'release': {
        const h = this.pick(
          this.handles.filter((x) => !x.released),
          act.who,
        );
        if (h) {
          h.released = true;
          h.handle.release();
          await settle();
          this.checkHolders(`after ${h.label} was released`);
        }
        break;
      }
    }
    // A subscriber whose pending next() settled meanwhile takes its item (as `for await` would).
    for (const s of this.live) s.take();
    await settle();
  }

  /**
   * `informers.stop()`: every watch stops at once — watches() is empty, no request stays open — and every
   * subscription ends within 100 ms (after what was queued; done, or ABORTED), every handle's synced() settles.
   * The factory serves new subscribers afterwards.
   */
  async stopFactory(): Promise<void> {
    const w = this.world;
    const live = this.live;
    const handles = this.handles.filter((h) => !h.released && !h.failed);
    for (const s of live) s.stopped = true;
    this.informers.stop();
    if (this.informers.watches().length > 0) w.violate(`after stop(), watches() lists ${this.informers.watches().length}`);
    for (const s of live) {
      for (let i = 0; i < 1_000 && s.status === 'live'; i++) {
        const slot = s.prime();
        await this.within(slot);
        if (!slot.settled) {
          w.violate(`${s.label}: its iteration did not end within 100 ms of stop()`);
          break;
        }
        s.take();
      }
      reach(`stop: ${s.via} ${s.status}`);
      s.handle?.release();
    }
    for (const h of handles) {
      const synced = await this.within(h.handle.synced());
      if (!synced.settled) w.violate(`${h.label}: synced() did not settle within 100 ms of stop()`);
      h.failed = true; // it no longer follows the server
      h.released = true;
      h.handle.release();
    }
    await this.within(Promise.resolve());
    if (w.sim.openWatches > 0) w.violate(`100 ms after stop(), the server has ${w.sim.openWatches} open watches`);
  }

  /** The server behaves again; fresh subscribers join; everyone still there catches up; then all leave. */
  async finish(): Promise<void> {
    const w = this.world;
    w.log('final: the server behaves; every subscriber still there drains');
    w.sim.wellBehaved();
    this.forbidden = false;
    for (const identity of IDENTITIES) {
      this.join(identity, 'stream', 1024);
      this.join(identity, 'events', 1024);
      this.addHandle(identity);
    }
    const deadline = w.clock.now() + 120_000;
    let equalSince: number | undefined;
    while (w.clock.now() < deadline && w.violations.length < 5) {
      await w.advance(500);
      for (const s of this.live) await s.pullReady(10_000);
      if (this.live.every((s) => s.converged())) {
        equalSince ??= w.clock.now();
        if (w.clock.now() - equalSince >= 5_000) break;
      } else equalSince = undefined;
    }
    for (const s of this.live) {
      reach(`${s.via}: still subscribed at the end`);
      const d = diff(s.view, this.model.stateAt(s.identity));
      if (d.length > 0) w.violate(`${s.label}: after draining, its view is not the server's: ${d.join('; ')}`);
    }
    for (const h of this.handles.filter((x) => !x.released)) {
      const synced = await this.within(h.handle.synced(), 30_000);
      if (!synced.settled) w.violate(`${h.label}: synced() did not settle after the server behaved for 30 s`);
      else if (synced.error !== undefined) {
        reach('handle: synced() rejected at the end');
        const code = isKwatchError(synced.error) ? synced.error.code : String(synced.error);
        if (!(h.mayFail && code === 'FORBIDDEN')) w.violate(`${h.label}: synced() rejected with ${code}`);
        h.failed = true;
      } else {
        const view = new Map<string, Held>();
        for (const o of h.handle.list()) {
          const m = o.metadata as Meta;
          view.set(`${m.namespace}/${m.name}`, { uid: m.uid ?? '', rv: Number(m.resourceVersion) });
        }
        const d = diff(view, this.model.stateAt(h.identity));
        reach('handle: in sync at the end');
        if (d.length > 0) w.violate(`${h.label}: the store is not the server's: ${d.join('; ')}`);
      }
    }
    w.log('final: everyone leaves');
    for (const s of this.live) await this.leave(s, 'return');
    for (const s of this.subs) s.handle?.release();
    for (const h of this.handles.filter((x) => !x.released)) {
      h.released = true;
      h.handle.release();
    }
    await w.advance(this.cfg.graceMs + 1_000);
    const left = this.informers.watches();
    if (left.length > 0)
      w.violate(`graceMs after all left, watches() lists ${left.map((x) => `${x.key} (${x.holders} holders)`).join(', ')}`);
    if (w.sim.openWatches > 0) w.violate(`graceMs after all left, the server has ${w.sim.openWatches} open watches`);
    if (w.clock.pendingTimers > 0) w.violate(`graceMs after all left, ${w.clock.pendingTimers} timers are armed`);
  }

  /** The request budget per watch identity: in any window of Δ s at most 10 + 5·Δ requests, earned LIST pages aside. */
  checkRequests(): void {
    for (const identity of IDENTITIES) {
      const counted = paced(this.world.sim.requests.filter((r) => r.path === identity.path));
      for (let i = 0; i < counted.length; i++) {
        for (let j = counted.length - 1; j > i; j--) {
          const seconds = ((counted[j] as number) - (counted[i] as number)) / 1000;
          if (j - i + 1 > 10 + 5 * seconds) {
            this.world.violate(
              `${identity.label}: ${j - i + 1} requests in ${seconds.toFixed(3)} s from ${(((counted[i] as number) - this.world.t0) / 1000).toFixed(3)}s (at most ${Math.floor(10 + 5 * seconds)})`,
            );
            return;
          }
        }
      }
    }
    if (this.world.sim.runaway) this.world.violate(`the server saw ${this.world.sim.runaway.requests}+ requests at one instant`);
  }
}

/**
 * The times of the requests that draw from the budget: all but the LIST pages an honest paginated list earns (one
 * continuing a page that brought `limit` objects new to its list under a continue token new to it).
 */
function paced(requests: readonly SimRequest[]): number[] {
  const times: number[] = [];
  let keys = new Set<string>();
  let tokens = new Set<string>();
  let earned = false;
  for (const r of requests) {
    if (r.kind === 'watch') {
      times.push(r.at);
      continue;
    }
    const continued = 'continue' in r.query;
    if (!continued) [keys, tokens] = [new Set(), new Set()];
    if (!(continued && earned)) times.push(r.at);
    earned = false;
    if (!r.page) continue;
    const before = keys.size;
    for (const k of r.page.items) keys.add(k);
    const token = r.page.continue;
    const limit = r.query.limit ? Number(r.query.limit) : Number.POSITIVE_INFINITY;
    earned = token !== undefined && !tokens.has(token) && keys.size - before >= limit;
    if (token !== undefined) tokens.add(token);
  }
  return times;
}

/** Runs `body` with Math.random seeded (the watchers' backoff jitter), so a run replays exactly. */
async function withSeededRandom<R>(seed: number, body: () => Promise<R>): Promise<R> {
  const original = Math.random;
  Math.random = seededRandom(seed);
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}

async function runEdges(cfg: Config, actions: Action[]): Promise<void> {
  const started = performance.now();
  const run = new EdgeRun(cfg);
  try {
    await withSeededRandom(cfg.random, async () => {
      const first = run.join(IDENTITIES[cfg.first.id], cfg.first.via, cfg.first.bufferSize);
      await first.pullReady(1); // pulled while the initial sync arrives; then slow
      for (const act of actions) {
        await run.act(act);
        if (run.world.violations.length > 0) break;
      }
      if (run.world.violations.length === 0) await run.finish();
    });
    run.checkRequests();
  } finally {
    run.informers.stop();
  }
  reach(`runs`);
  slowestRunMs = Math.max(slowestRunMs, performance.now() - started);
  reach(`actions ≤ ${Math.ceil(actions.length / 50) * 50}`);
  for (const r of run.world.sim.requests) {
    reach(
      `request: ${r.kind} ${r.status}${r.note ? ` ${r.note.replace(/\d+/g, 'N')}` : ''}${'continue' in r.query ? ' (continue)' : ''}`,
    );
  }
  if (process.env.KWATCH_EDGES_TRACE) console.log(run.world.trace.join('\n'));
  run.world.assertNoViolation(`config ${show(cfg)}\nactions (${actions.length}): ${actions.map(show).join(', ')}`);
}

afterAll(() => {
  if (process.env.KWATCH_EDGES_STATS)
    console.log(
      [...reached]
        .sort()
        .map(([k, n]) => `${String(n).padStart(7)}  ${k}`)
        .concat(`slowest run: ${slowestRunMs.toFixed(0)} ms`)
        .join('\n'),
    );
});

describe('InformerFactory at its edges, model-based', () => {
  it('subscribers that join, pull slowly, leave in every way and rejoin, against a server in hostile modes: nothing lost, nothing twice, nothing held, requests paced', async () => {
    const replayPath = process.env.KWATCH_FC_PATH;
    await fc.assert(fc.asyncProperty(config, fc.array(action, { minLength: 5, maxLength: 150, size: 'large' }), runEdges), {
      numRuns: RUNS,
      seed: SEED,
      ...(replayPath !== undefined && { path: replayPath, endOnFailure: true }),
    });
  }, 120_000);
});
