// Each transition of the watcher's state machine, with a scripted transport and a manual clock.

import { watchTarget } from '@kwatch/models';
import { ConfigMap } from '@kwatch/models/v1';
import { ManualClock } from '@kwatch/testenv';
import { describe, expect, it } from 'vitest';
import type { StreamBody, WatchTransport } from '../src/client/transport.ts';
import { Watcher } from '../src/index.ts';
import { apiErrorFrom, type KwatchError, TransportError } from '../src/internal/errors.ts';
import { isMarker } from '../src/internal/events.ts';
import { KnownObjects } from '../src/watch/knownObjects.ts';
import { type Entry, Machine, type Memory, type Position, type State } from '../src/watch/machine.ts';
import { resolveStreamOptions, resolveWatcherOptions, type StreamOptions, type WatcherOptions } from '../src/watch/options.ts';
import { Pacer } from '../src/watch/pacer.ts';
import { isMarkerLine, pull, pullMany, watchersOf, world } from './simWorld.ts';

/** A response body the test feeds by hand. */
class FakeBody implements StreamBody {
  #chunks: Array<Uint8Array | null> = [];
  #waiting: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | undefined;
  #error: unknown;
  closed = false;
  send(text: string | null): void {
    const chunk = text === null ? null : Buffer.from(text);
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.resolve(chunk === null ? { done: true, value: undefined } : { done: false, value: chunk });
    } else this.#chunks.push(chunk);
  }
  close(reason?: Error): void {
    this.closed = true;
    this.#error = reason ?? new Error('closed');
    this.#waiting?.reject(this.#error);
    this.#waiting = undefined;
  }
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        if (this.#error) return Promise.reject(this.#error);
        const c = this.#chunks.shift();
        if (c !== undefined) return Promise.resolve(c === null ? { done: true, value: undefined } : { done: false, value: c });
        return new Promise((resolve, reject) => {
          this.#waiting = { resolve, reject };
        });
      },
    };
  }
}

type Reply = { list?: unknown; stream?: FakeBody; error?: Error };
class ScriptedTransport implements WatchTransport {
  requests: string[] = [];
  /** When each request was sent, on the test's clock. */
  times: number[] = [];
  readonly replies: Reply[];
  readonly #now: () => number;
  constructor(replies: Reply[], now: () => number = () => 0) {
    this.replies = replies;
    this.#now = now;
  }
  #next(path: string, q: URLSearchParams): Reply {
    this.requests.push(`${path}?${q}`);
    this.times.push(this.#now());
    const r = this.replies.shift();
    if (!r) throw new Error(`unexpected request ${path}?${q}`);
    if (r.error) throw r.error;
    return r;
  }
  async getJson(path: string, q: URLSearchParams) {
    return this.#next(path, q).list;
  }
  async openStream(path: string, q: URLSearchParams) {
    return this.#next(path, q).stream as FakeBody;
  }
}

const cm = (name: string, rv: string, uid = `uid-${name}`) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', uid, resourceVersion: rv },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const endBookmark = (rv: string) =>
  line('BOOKMARK', {
    kind: 'ConfigMap',
    metadata: { resourceVersion: rv, annotations: { 'k8s.io/initial-events-end': 'true' } },
  });

const initialSync: Position = { resourceVersion: undefined, sync: { initial: true, notOlderThan: undefined, reason: undefined } };
const at = (resourceVersion: string): Position => ({ resourceVersion, sync: undefined });

function setup(
  replies: Reply[],
  overrides: { options?: WatcherOptions<unknown>; stream?: StreamOptions } = {},
  position: Position = initialSync,
) {
  const clock = new ManualClock();
  const transport = new ScriptedTransport(replies, clock.now);
  const controller = new AbortController();
  const hooks = { errors: [] as KwatchError[], bookmarks: [] as string[] };
  const memory: Memory = {
    position,
    known: new KnownObjects(),
    pacer: new Pacer(clock, {}, () => 0.5),
    watchListUnsupported: false,
    counters: { connects: 0, reconnects: 0, relists: 0, lastEventAt: undefined },
    lastError: undefined,
  };
  const machine = new Machine<ConfigMap>(
    {
      target: watchTarget(ConfigMap, { namespace: 'ns' }),
      transport,
      clock,
      signal: controller.signal,
      options: resolveWatcherOptions({
        inactivityTimeoutMs: 5_000,
        maxLineBytes: 1 << 20,
        pageSize: 2,
        hooks: { error: (e) => hooks.errors.push(e), bookmark: (b) => hooks.bookmarks.push(b.resourceVersion) },
        ...overrides.options,
      }),
      stream: resolveStreamOptions({ markers: true, ...overrides.stream }),
      decode: (raw) => Object.setPrototypeOf(raw, ConfigMap.prototype) as ConfigMap,
    },
    memory,
  );
  return { machine, clock, transport, controller, hooks, memory };
}

/** Takes entries as a consumer would: commits each, calls its hook, and shows its item. */
function take(memory: Memory, entries: Entry<ConfigMap>[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.position) memory.position = e.position;
    memory.known.commit(e.seq);
    e.hook?.();
    const i = e.item;
    if (!i) continue;
    out.push(isMarker(i) ? i.type : `${i.type} ${i.object.metadata?.name}${i.synthetic ? '*' : ''}${i.tombstone ? '†' : ''}`);
  }
  return out;
}

async function run(
  m: Machine<ConfigMap>,
  memory: Memory,
  state: State,
  steps: number,
): Promise<{ items: string[]; state: State }> {
  const items: string[] = [];
  for (let i = 0; i < steps; i++) {
    const [out, next] = await m.step(state);
    items.push(...take(memory, out));
    state = next;
  }
  return { items, state };
}

const connect: State = { kind: 'connect', rv: '5', sync: undefined };

describe('the watcher state machine', () => {
  it('start: managed without resourceVersion syncs (WatchList, or LIST); with one, or unmanaged, connects', async () => {
    expect((await setup([]).machine.step({ kind: 'start' }))[1]).toMatchObject({ kind: 'connect', sync: { viaList: false } });
    expect((await setup([], { options: { watchList: false } }).machine.step({ kind: 'start' }))[1].kind).toBe('list');
    expect((await setup([], {}, at('42')).machine.step({ kind: 'start' }))[1]).toEqual({
      kind: 'connect',
      rv: '42',
      sync: undefined,
    });
    expect((await setup([], { stream: { manageResourceVersion: false } }).machine.step({ kind: 'start' }))[1].kind).toBe(
      'connect',
    );
  });

  it('sync by WatchList: initial ADDED events are synthetic, the end bookmark gives SYNCED, then live events', async () => {
    const body = new FakeBody();
    const { machine, transport, memory } = setup([{ stream: body }]);
    body.send(line('ADDED', cm('a', '10')) + line('ADDED', cm('b', '11')) + endBookmark('12') + line('MODIFIED', cm('a', '13')));
    const { items, state } = await run(machine, memory, { kind: 'start' }, 3);
    expect(items).toEqual(['ADDED a*', 'ADDED b*', 'SYNCED', 'MODIFIED a']);
    expect(transport.requests[0]).toContain('sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=');
    expect(memory.position).toEqual(at('13'));
    expect(state).toMatchObject({ kind: 'watch', sync: undefined, rv: '13' });
  });

  it('the position is committed per entry taken: entries not taken leave it where the consumer is', async () => {
    const body = new FakeBody();
    const { machine, memory } = setup([{ stream: body }], {}, at('10'));
    body.send(line('ADDED', cm('d', '11')) + line('ADDED', cm('e', '12')) + line('ADDED', cm('f', '13')));
    const [, watching] = await machine.step({ kind: 'start' });
    const [, w] = await machine.step(watching);
    const [entries] = await machine.step(w);
    expect(entries).toHaveLength(3);
    take(memory, entries.slice(0, 1));
    expect(memory.position).toEqual(at('11'));
    memory.known.rollback(); // the stream ends with e and f untaken
    expect(memory.known.size).toBe(1);
  });

  it('sync by paginated LIST: pages follow the continue token, then the watch starts at the list resourceVersion', async () => {
    const body = new FakeBody();
    const { machine, transport, memory } = setup(
      [
        {
          list: {
            metadata: { continue: 'next' },
            items: [{ metadata: cm('a', '1').metadata }, { metadata: cm('b', '2').metadata }],
          },
        },
        { list: { metadata: { resourceVersion: '5' }, items: [{ metadata: cm('c', '3').metadata }] } },
        { stream: body },
      ],
      { options: { watchList: false } },
    );
    const { items, state } = await run(machine, memory, { kind: 'start' }, 4);
    expect(items).toEqual(['ADDED a*', 'ADDED b*', 'ADDED c*', 'SYNCED']);
    expect(transport.requests[0]).toMatch(/limit=2$/);
    expect(transport.requests[1]).toMatch(/limit=2&continue=next$/);
    expect(transport.requests[2]).toContain('watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=5');
    expect(state.kind).toBe('watch');
  });

  it('a sync interrupted before SYNCED stays a sync: the position keeps it, with the objects taken so far known', async () => {
    const { machine, memory } = setup(
      [{ list: { metadata: { resourceVersion: '5' }, items: [cm('a', '1'), cm('b', '2'), cm('c', '3')] } }],
      { options: { watchList: false, pageSize: 500 } },
    );
    const [, list] = await machine.step({ kind: 'start' });
    const [entries] = await machine.step(list);
    take(memory, entries.slice(0, 1)); // the consumer takes `a`, then breaks
    memory.known.rollback();
    expect(memory.position).toEqual(initialSync);
    expect(memory.known.size).toBe(1);
    // The next stream syncs again and delivers only what was not taken.
    const again = setup(
      [{ list: { metadata: { resourceVersion: '6' }, items: [cm('a', '1'), cm('b', '2'), cm('c', '3')] } }],
      { options: { watchList: false, pageSize: 500 } },
      memory.position,
    );
    Object.assign(again.memory, { known: memory.known }); // the watcher's memory, carried to its next stream
    const { items } = await run(again.machine, again.memory, { kind: 'start' }, 2);
    expect(items).toEqual(['ADDED b*', 'ADDED c*', 'SYNCED']);
    expect(again.memory.position).toEqual(at('6'));
  });

  it('BOOKMARK advances the position and calls the hook; nothing is yielded', async () => {
    const body = new FakeBody();
    const { machine, memory, hooks } = setup([{ stream: body }], {}, at('1'));
    body.send(line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '99' } }));
    const { items } = await run(machine, memory, { kind: 'start' }, 3);
    expect(items).toEqual([]);
    expect(memory.position).toEqual(at('99'));
    expect(hooks.bookmarks).toEqual(['99']);
  });

  it('410 when managed: RESYNC, a relist at the last resourceVersion after a backoff, and a diff that converges', async () => {
    const watch = new FakeBody();
    const after = new FakeBody();
    const { machine, transport, memory, clock } = setup(
      [
        { list: { metadata: { resourceVersion: '3' }, items: [cm('keep', '1'), cm('change', '2'), cm('gone', '3')] } },
        { stream: watch },
        { list: { metadata: { resourceVersion: '9' }, items: [cm('keep', '1'), cm('change', '7'), cm('new', '8')] } },
        { stream: after },
      ],
      { options: { watchList: false } },
    );
    watch.send(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 3 (8)' }));
    // start, list, connect, read (ERROR)
    let { items, state } = await run(machine, memory, { kind: 'start' }, 4);
    expect(state.kind).toBe('backoff');
    expect(memory.position.sync).toMatchObject({ initial: false, notOlderThan: '3' });
    const sleeping = machine.step(state);
    clock.advance(state.kind === 'backoff' ? state.delayMs : 0);
    state = (await sleeping)[1];
    const more = await run(machine, memory, state, 1);
    items = [...items, ...more.items];
    expect(items).toEqual([
      'ADDED keep*',
      'ADDED change*',
      'ADDED gone*',
      'SYNCED',
      'RESYNC',
      'MODIFIED change*',
      'ADDED new*',
      'DELETED gone*†',
      'SYNCED',
    ]);
    expect(transport.requests[2]).toContain('resourceVersion=3&resourceVersionMatch=NotOlderThan');
    expect(watch.closed).toBe(true);
    expect(memory.counters.relists).toBe(1);
    expect(more.state).toEqual({ kind: 'connect', rv: '9', sync: undefined });
  });

  it('410 again on the relist at the last resourceVersion: falls back to a consistent read', async () => {
    const gone = apiErrorFrom(410, { kind: 'Status', code: 410, reason: 'Expired' }, 'GET x');
    const { machine, transport, memory } = setup(
      [{ error: gone }, { list: { metadata: { resourceVersion: '9' }, items: [] } }],
      { options: { watchList: false } },
      { resourceVersion: '3', sync: { initial: false, notOlderThan: '3', reason: gone } },
    );
    const { state } = await run(machine, memory, { kind: 'start' }, 3);
    expect(transport.requests[0]).toContain('resourceVersion=3');
    expect(transport.requests[1]).not.toContain('resourceVersion=');
    expect(state.kind).toBe('connect');
  });

  it('410 when unmanaged: a fatal GoneError', async () => {
    const body = new FakeBody();
    const { machine, memory } = setup([{ stream: body }], { stream: { manageResourceVersion: false } });
    body.send(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }));
    const { state } = await run(machine, memory, { kind: 'start' }, 3);
    expect(state.kind).toBe('fatal');
    await expect(machine.step(state)).rejects.toMatchObject({ code: 'GONE', httpStatus: 410 });
  });

  it('retryable failures back off with growing, jittered delays on the injected clock, then retry', async () => {
    const net = () => new TransportError('NETWORK_ERROR', 'ECONNREFUSED');
    const body = new FakeBody();
    const { machine, clock, memory } = setup([{ error: net() }, { error: net() }, { stream: body }], {}, at('5'));
    let state: State = (await machine.step({ kind: 'start' }))[1];
    const delays: number[] = [];
    for (let i = 0; i < 2; i++) {
      state = (await machine.step(state))[1];
      expect(state.kind).toBe('backoff');
      if (state.kind === 'backoff') delays.push(state.delayMs);
      const sleeping = machine.step(state);
      clock.advance(delays[i] as number);
      state = (await sleeping)[1];
    }
    expect(delays).toEqual([400, 800]); // random 0.5 × 800, × 1600
    expect(memory.pacer.consecutiveFailures).toBe(2);
    state = (await machine.step(state))[1];
    expect(state.kind).toBe('watch');
  });

  it('a Retry-After is a floor for the delay', async () => {
    const { machine } = setup([{ error: apiErrorFrom(429, undefined, 'GET x', '7') }], {}, at('5'));
    const [, state] = await machine.step(connect);
    expect(state).toMatchObject({ kind: 'backoff', delayMs: 7000 });
  });

  it('401 and 403 are fatal here: re-authentication is done by the client (it retries once with fresh credentials)', async () => {
    const unauthorized = apiErrorFrom(401, { kind: 'Status', code: 401, reason: 'Unauthorized' }, 'GET x');
    const { machine, transport } = setup([{ error: unauthorized }], {}, at('5'));
    expect((await machine.step(connect))[1]).toMatchObject({ kind: 'fatal', error: { code: 'UNAUTHORIZED' } });
    expect(transport.requests).toHaveLength(1);
    const forbidden = setup([{ error: apiErrorFrom(403, undefined, 'GET x') }], {}, at('5'));
    expect((await forbidden.machine.step(connect))[1]).toMatchObject({ kind: 'fatal' });
  });

  it('a server that refuses WatchList (422) makes the sync fall back to LIST, for good', async () => {
    const { machine, memory } = setup([{ error: apiErrorFrom(422, undefined, 'GET x') }]);
    const [, connecting] = await machine.step({ kind: 'start' });
    const [, next] = await machine.step(connecting);
    expect(next).toMatchObject({ kind: 'list', continueToken: undefined });
    expect(memory.watchListUnsupported).toBe(true);
  });

  it('a clean end of a watch that lived reconnects at once, or ends with quitOnTimeout', async () => {
    for (const quitOnTimeout of [false, true]) {
      const body = new FakeBody();
      const { machine, clock, memory } = setup([{ stream: body }], { stream: { quitOnTimeout } }, at('5'));
      const [, watching] = await machine.step(connect);
      clock.advance(1500);
      body.send(null);
      const { state } = await run(machine, memory, watching, 1);
      expect(state).toEqual(quitOnTimeout ? { kind: 'done' } : connect);
    }
  });

  it('a WatchList sync cut by the server: quitOnTimeout ends the stream; otherwise it backs off and retries by LIST', async () => {
    for (const quitOnTimeout of [true, false]) {
      const body = new FakeBody();
      const { machine, memory } = setup([{ stream: body }], { stream: { quitOnTimeout } });
      const [, connecting] = await machine.step({ kind: 'start' });
      const [, watching] = await machine.step(connecting);
      body.send(line('ADDED', cm('a', '10')));
      body.send(null); // the server's timeoutSeconds elapsed inside the initial events
      const { items, state } = await run(machine, memory, watching, 2);
      expect(items).toEqual(['ADDED a*']);
      if (quitOnTimeout) expect(state).toEqual({ kind: 'done' });
      else expect(state).toMatchObject({ kind: 'backoff', next: { kind: 'list', sync: { viaList: true } } });
      expect(memory.position.sync).toMatchObject({ initial: true }); // the sync is not over: the next stream resumes it
    }
  });

  it('a watch closed at once without an event is a failure (EARLY_CLOSE) that backs off', async () => {
    const body = new FakeBody();
    const { machine, hooks, memory } = setup([{ stream: body }], {}, at('5'));
    const [, watching] = await machine.step(connect);
    body.send(null);
    const [entries, next] = await machine.step(watching);
    take(memory, entries);
    expect(next).toMatchObject({ kind: 'backoff', next: connect });
    expect(hooks.errors.map((e) => e.code)).toEqual(['EARLY_CLOSE']);
  });

  it('the inactivity watchdog closes a silent stream with STALLED and the machine backs off', async () => {
    const body = new FakeBody();
    const { machine, clock, hooks, memory } = setup([{ stream: body }], {}, at('5'));
    const [, watching] = await machine.step(connect);
    const reading = machine.step(watching);
    clock.advance(4_999);
    expect(body.closed).toBe(false);
    clock.advance(1);
    const [entries, next] = await reading;
    take(memory, entries);
    expect(body.closed).toBe(true);
    expect(next.kind).toBe('backoff');
    expect(hooks.errors.map((e) => e.code)).toEqual(['STALLED']);
  });

  it('hooks are entries: they run when the consumer reaches them, after the events before them', async () => {
    const body = new FakeBody();
    const { machine, hooks, memory } = setup([{ stream: body }], {}, at('5'));
    const [, watching] = await machine.step(connect);
    body.send(`${line('ADDED', cm('a', '6'))}{"type":"ADDED","object":\n`);
    const [entries] = await machine.step(watching);
    expect(hooks.errors).toEqual([]); // not yet: `a` has not been taken
    expect(take(memory, entries.slice(0, 1))).toEqual(['ADDED a']);
    expect(hooks.errors).toEqual([]);
    take(memory, entries.slice(1));
    expect(hooks.errors.map((e) => e.code)).toEqual(['DECODE_ERROR']);
  });

  it('gives up after maxConsecutiveErrors', async () => {
    const net = new TransportError('NETWORK_ERROR', 'x');
    const { machine } = setup([{ error: net }, { error: net }], { options: { maxConsecutiveErrors: 1 } }, at('5'));
    const [, first] = await machine.step(connect);
    expect(first.kind).toBe('backoff');
    const [, second] = await machine.step(connect);
    expect(second.kind).toBe('fatal');
  });

  it('an abort during backoff ends at once and leaves no timer', async () => {
    const { machine, clock, controller } = setup([]);
    const sleeping = machine.step({ kind: 'backoff', delayMs: 30_000, next: { kind: 'start' } });
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    expect((await sleeping)[1]).toEqual({ kind: 'done' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('events decoded before a bad line in the same chunk are still delivered', async () => {
    const body = new FakeBody();
    const { machine, memory } = setup([{ stream: body }], {}, at('5'));
    body.send(`${line('ADDED', cm('a', '6'))}{"type":"ADDED","object":\n${line('ADDED', cm('b', '7'))}`);
    const { items, state } = await run(machine, memory, connect, 2);
    expect(items).toEqual(['ADDED a']);
    expect(state.kind).toBe('backoff');
  });

  it('every request is paced: a burst of 10, then 5 per second, whatever the server answers', async () => {
    const replies: Reply[] = Array.from({ length: 30 }, () => ({ error: apiErrorFrom(401, undefined, 'GET x') }));
    const { machine, clock, transport } = setup(replies, {}, at('5'));
    // 401 retries once at once (no backoff), so only the token bucket paces this loop.
    let state: State = connect;
    const started = clock.now();
    for (let i = 0; i < 30 && transport.requests.length < 20; i++) {
      const stepping = machine.step(state);
      for (let j = 0; j < 10; j++) {
        await Promise.resolve();
        clock.advance(10);
      }
      const [, next] = await stepping;
      state = next.kind === 'fatal' ? connect : next.kind === 'backoff' ? next.next : next;
    }
    const seconds = (clock.now() - started) / 1000;
    expect(transport.requests.length).toBeLessThanOrEqual(10 + 5 * seconds + 1);
  });
});

/** One step, moving the manual clock timer by timer while the step waits (for a token, a backoff). */
async function stepOn(m: Machine<ConfigMap>, clock: ManualClock, state: State): Promise<[Entry<ConfigMap>[], State]> {
  const stepping = m.step(state);
  if (!(await clock.runUntilSettled(stepping, 60_000))) throw new Error(`step ${state.kind}: still waiting after 60 s`);
  return stepping;
}

/** Steps until `until(state)`, taking every entry as a consumer would. */
async function runUntil(
  m: Machine<ConfigMap>,
  memory: Memory,
  clock: ManualClock,
  state: State,
  until: (s: State) => boolean,
): Promise<{ items: string[]; state: State }> {
  const items: string[] = [];
  for (let i = 0; i < 200 && !until(state); i++) {
    const [out, next] = await stepOn(m, clock, state);
    items.push(...take(memory, out));
    state = next;
  }
  return { items, state };
}

const page = (items: unknown[], continueToken?: string, resourceVersion = '9') => ({
  list: { metadata: continueToken ? { continue: continueToken } : { resourceVersion }, items },
});

describe('LIST pages must bring progress', () => {
  const byList = { options: { watchList: false as const, pageSize: 2 } };

  it('a page of pageSize new objects under a new token earns the next page free; a shorter one draws a token', async () => {
    const { machine, memory, hooks } = setup(
      [page([cm('a', '1'), cm('b', '2')], 't1'), page([cm('c', '3')], 't2'), page([cm('d', '4')])],
      byList,
    );
    let [, state] = await machine.step({ kind: 'start' });
    expect(state).toMatchObject({ kind: 'list', free: false });
    [, state] = await machine.step(state);
    expect(state).toMatchObject({ kind: 'list', continueToken: 't1', free: true });
    [, state] = await machine.step(state);
    expect(state).toMatchObject({ kind: 'list', continueToken: 't2', free: false });
    const rest = await run(machine, memory, state, 1);
    expect(rest.items).toEqual(['ADDED d*', 'SYNCED']);
    expect(hooks.errors).toEqual([]);
    expect(memory.pacer.requests).toBe(3);
  });

  it('a repeated continue token is a failure: reported, backed off, then the list starts over unpaginated', async () => {
    const watch = new FakeBody();
    const { machine, memory, hooks, transport, clock } = setup(
      [page([cm('a', '1')], 't1'), page([cm('b', '2')], 't1'), page([cm('a', '1'), cm('b', '2')]), { stream: watch }],
      byList,
    );
    const first = await runUntil(machine, memory, clock, { kind: 'start' }, (s) => s.kind === 'backoff');
    expect(first.items).toEqual(['ADDED a*', 'ADDED b*']); // what the pages brought is delivered
    expect(first.state).toMatchObject({
      kind: 'backoff',
      next: { kind: 'list', continueToken: undefined, free: false, sync: { stalled: true, unpaginated: true } },
    });
    expect(hooks.errors.map((e) => e.code)).toEqual(['NO_PROGRESS']);
    expect(hooks.errors[0]).toBeInstanceOf(TransportError);
    expect(hooks.errors[0]?.retryable).toBe(true);
    expect(hooks.errors[0]?.message).toMatch(/repeated the continue token of an earlier page/);
    expect(memory.lastError).toBe(hooks.errors[0]);
    expect(memory.pacer.consecutiveFailures).toBe(1);
    const rest = await runUntil(machine, memory, clock, first.state, (s) => s.kind === 'watch');
    expect(rest.items).toEqual(['SYNCED']);
    expect(transport.requests[2]).not.toContain('limit=');
    expect(transport.requests[2]).not.toContain('continue=');
    expect(memory.position).toEqual(at('9'));
  });

  it.each([
    ['the same objects again under a new token', page([cm('a', '1'), cm('b', '2')], 't2')],
    ['no object under a new token', page([], 't2')],
  ])('a page without a new object is a failure: %s', async (_, stalled) => {
    const { machine, memory, hooks, clock } = setup([page([cm('a', '1'), cm('b', '2')], 't1'), stalled], byList);
    const { items, state } = await runUntil(machine, memory, clock, { kind: 'start' }, (s) => s.kind === 'backoff');
    expect(items).toEqual(['ADDED a*', 'ADDED b*']);
    expect(state).toMatchObject({ kind: 'backoff', next: { kind: 'list', sync: { unpaginated: true } } });
    expect(hooks.errors[0]).toMatchObject({
      code: 'NO_PROGRESS',
      message: expect.stringMatching(/brought no object not listed before/),
    });
    expect(memory.pacer.consecutiveFailures).toBe(1);
  });

  it('the list that starts over is diffed against what was delivered: an object it no longer has is deleted', async () => {
    const { machine, memory, clock } = setup(
      [page([cm('a', '1'), cm('gone', '2')], 't1'), page([cm('a', '1')], 't1'), page([cm('a', '1')])],
      byList,
    );
    const { items } = await runUntil(machine, memory, clock, { kind: 'start' }, (s) => s.kind === 'connect');
    expect(items).toEqual(['ADDED a*', 'ADDED gone*', 'DELETED gone*†', 'SYNCED']);
  });

  it('after a stall no page is free until the sync ends, not even a full page of new objects', async () => {
    const { machine, memory, clock } = setup(
      [page([cm('a', '1')], 't1'), page([], 't2'), page([cm('a', '1'), cm('b', '2')], 't3')],
      byList,
    );
    const { state } = await runUntil(machine, memory, clock, { kind: 'start' }, (s) => s.kind === 'list' && !!s.continueToken);
    expect(state).toMatchObject({ kind: 'list', continueToken: 't1', free: false });
    const after = await runUntil(machine, memory, clock, state, (s) => s.kind === 'list' && s.continueToken === 't3');
    // The unpaginated restart was answered with a token anyway: followed, paced.
    expect(after.state).toMatchObject({ kind: 'list', continueToken: 't3', free: false, sync: { stalled: true } });
  });

  it('a WatchList whose initial events repeat an object: a failure, and the sync retries by LIST with no free page', async () => {
    const body = new FakeBody();
    const { machine, memory, hooks } = setup([{ stream: body }]);
    body.send(line('ADDED', cm('a', '1')) + line('ADDED', cm('b', '2')) + line('ADDED', cm('a', '1')));
    const { items, state } = await run(machine, memory, { kind: 'start' }, 3);
    expect(items).toEqual(['ADDED a*', 'ADDED b*']);
    expect(body.closed).toBe(true);
    expect(state).toMatchObject({ kind: 'backoff', next: { kind: 'list', sync: { viaList: true, stalled: true } } });
    expect(hooks.errors[0]).toMatchObject({
      code: 'NO_PROGRESS',
      message: expect.stringMatching(/initial events .* repeated an object/),
    });
    expect(memory.pacer.consecutiveFailures).toBe(1);
  });

  it('an honest LIST of 10,000 objects in pages of 500 is not slowed: after the first, every page is free', async () => {
    const objects = Array.from({ length: 10_000 }, (_, i) => cm(`cm-${i}`, String(i + 1)));
    const pages: Reply[] = [];
    for (let i = 0; i < 20; i++) pages.push(page(objects.slice(i * 500, i * 500 + 500), i < 19 ? `t${i}` : undefined, '10001'));
    const { machine, memory, transport, clock, hooks, controller } = setup([...pages, { stream: new FakeBody() }], {
      options: { watchList: false, pageSize: 500 },
    });
    for (let i = 0; i < 10; i++) await memory.pacer.admit(controller.signal); // the budget spent: no token left
    const t0 = clock.now();
    const { items, state } = await runUntil(machine, memory, clock, { kind: 'start' }, (s) => s.kind === 'connect');
    expect(items).toHaveLength(10_001);
    expect(items.at(-1)).toBe('SYNCED');
    expect(hooks.errors).toEqual([]);
    // The first page waited 200 ms for a token; the 19 others followed at once.
    expect(transport.times.map((t) => t - t0)).toEqual(Array(20).fill(200));
    expect(state).toEqual({ kind: 'connect', rv: '10001', sync: undefined });
  });
});

describe('the state machine through a Watcher: syncs, resyncs and timeouts', () => {
  it('a plain BOOKMARK among WatchList initial events does not end or commit the sync: a break resumes the sync, not the watch', async () => {
    const clock = new ManualClock();
    const requests: string[] = [];
    const line = (type: string, name: string | undefined, rv: number, end = false) =>
      `${JSON.stringify({
        type,
        object: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            ...(name ? { name, namespace: 'ns', uid: `u-${name}` } : {}),
            resourceVersion: String(rv),
            ...(end ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
          },
        },
      })}\n`;
    const transport: WatchTransport = {
      getJson: async () => ({ metadata: { resourceVersion: '60' }, items: [] }),
      openStream: async (_p, q): Promise<StreamBody> => {
        const watchList = q.get('sendInitialEvents') === 'true';
        requests.push(watchList ? 'watch-list' : `watch from ${q.get('resourceVersion')}`);
        const chunk = watchList
          ? line('ADDED', 'a', 10) +
            line('BOOKMARK', undefined, 50) +
            line('ADDED', 'b', 20) +
            line('BOOKMARK', undefined, 60, true)
          : '';
        return {
          close: () => {},
          async *[Symbol.asyncIterator]() {
            if (chunk) yield Buffer.from(chunk);
            await new Promise(() => {});
          },
        };
      },
    };
    const bookmarks: string[] = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport,
      clock,
      hooks: { bookmark: ({ resourceVersion }) => bookmarks.push(resourceVersion) },
    });
    const s1 = w.stream({ markers: true });
    expect(await pullMany(s1, clock, 1)).toEqual(['ADDED a']);
    await s1.return(undefined);
    expect(w.currentResourceVersion()).toBeUndefined();
    const s2 = w.stream({ markers: true });
    const r = await pullMany(s2, clock, 2);
    expect(r).toEqual(['ADDED b', 'SYNCED']);
    await clock.advanceAsync(10);
    expect(requests).toEqual(['watch-list', 'watch-list']); // the sync again, not a watch from 50; then it stays open, live
    expect(w.currentResourceVersion()).toBe('60');
    expect(bookmarks).not.toContain('50');
    await s2.return(undefined);
  });

  it('410 during a resumed resync (every watch, WatchList included, answers 410): the rest of the difference, exactly, by LIST', async () => {
    const { clock, sim } = world(['a', 'b', 'c']);
    const w = new Watcher(ConfigMap, { namespace: 'ns', transport: sim, clock });
    const s1 = w.stream({ markers: true });
    expect(await pullMany(s1, clock, 4)).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'SYNCED']);
    await s1.return(undefined);
    sim.update('configmaps', 'ns/a', { data: { v: '2' } });
    sim.delete('configmaps', 'ns/b');
    sim.create('configmaps', { metadata: { name: 'd', namespace: 'ns' } });
    sim.compact();
    const s2 = w.stream({ markers: true });
    expect(await pullMany(s2, clock, 2)).toEqual(['RESYNC', 'MODIFIED a']);
    await s2.return(undefined); // left in the middle of the resync
    sim.setModes({ goneForever: true, goneAs: 'status' });
    const s3 = w.stream({ markers: true });
    expect(await pullMany(s3, clock, 10, (l) => l === 'SYNCED')).toEqual([
      'RESYNC',
      'ADDED d',
      'DELETED b (tombstone)',
      'SYNCED',
    ]);
    sim.wellBehaved();
    // Whatever the 410s in between did, nothing comes twice afterwards.
    sim.create('configmaps', { metadata: { name: 'e', namespace: 'ns' } });
    const after = await pullMany(s3, clock, 10, (l) => l === 'ADDED e');
    expect(after.filter((l) => !isMarkerLine(l))).toEqual(['ADDED e']);
    await s3.return(undefined);
  });

  // BUG (machine.ts #connect: `openedAt: this.#c.clock.now()` is read after `await openStream`, i.e. when the
  // response headers arrived). The server starts its `timeoutSeconds` clock when it receives the request, so with
  // any latency a quiet watch with `timeoutSeconds: 1` ends < 1000 ms after `openedAt` and is counted as
  // EARLY_CLOSE: backoff (up to 30 s), consecutiveErrors climbing, maxConsecutiveErrors eventually fatal — for a
  // healthy server. client-go (which docs/watching.md says kwatch counts like) starts its clock before sending the
  // request; docs: "server timeout (clean end of the watch) | reconnects at once ... tested by timeoutSeconds: 1".
  it('a quiet watch ended by the server at its timeoutSeconds (with 20 ms of header latency) is a clean end, not EARLY_CLOSE', async () => {
    const { clock, sim } = world(['a']);
    const transport: WatchTransport = {
      getJson: (p, q, sg) => sim.getJson(p, q, sg),
      openStream: async (p, q, sg) => {
        const body = await sim.openStream(p, q, sg); // the server has started the watch (and its timeout)
        await new Promise<void>((r) => clock.setTimeout(() => r(), 20)); // the response headers arrive 20 ms later
        return body;
      },
    };
    const failures: string[] = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport,
      clock,
      timeoutSeconds: 1,
      hooks: { reconnecting: ({ error }) => failures.push(error.code) },
    });
    const s = w.stream();
    expect(await pullMany(s, clock, 1)).toEqual(['ADDED a']);
    await expect(pull(s, clock, 10_000)).rejects.toThrow(/no item/); // 10 quiet seconds
    w.stop();
    await pull(s, clock, 1_000);
    expect(failures).toEqual([]); // got ['EARLY_CLOSE', 'EARLY_CLOSE', ...]
    expect(w.health().consecutiveErrors).toBe(0);
  });

  it('a server that answers 410 to every watch meets an escalating backoff: at most 3 requests per failure counted', async () => {
    const { clock, sim } = world(['a']);
    const delays: number[] = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport: sim,
      clock,
      hooks: { reconnecting: ({ delayMs, error }) => error.code === 'GONE' && delays.push(delayMs) },
    });
    const s = w.stream();
    expect(await pullMany(s, clock, 1)).toEqual(['ADDED a']);
    sim.setModes({ goneForever: true });
    sim.expireWatches();
    await expect(pull(s, clock, 120_000)).rejects.toThrow(/no item/);
    const after = watchersOf(sim).length - 1;
    expect(delays.length).toBeGreaterThan(2);
    expect(after).toBeLessThanOrEqual(3 * delays.length + 3);
    expect(w.health().consecutiveErrors).toBe(delays.length);
    w.stop();
    await pull(s, clock, 1_000);
  });

  it('a watch closed at once without events is EARLY_CLOSE: backoff escalates, and the pace holds', async () => {
    const { clock, sim } = world(['a']);
    const seen: Array<{ code: string; delayMs: number }> = [];
    const w = new Watcher(ConfigMap, {
      namespace: 'ns',
      transport: sim,
      clock,
      hooks: { reconnecting: ({ error, delayMs }) => seen.push({ code: error.code, delayMs }) },
    });
    const s = w.stream();
    expect(await pullMany(s, clock, 1)).toEqual(['ADDED a']);
    sim.setModes({ closeAtOnce: true });
    sim.closeWatches();
    await expect(pull(s, clock, 20_000)).rejects.toThrow(/no item/);
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen.map((x) => x.code))).toEqual(new Set(['EARLY_CLOSE']));
    expect(w.health().consecutiveErrors).toBe(seen.length);
    const watches = watchersOf(sim).filter((r) => r.kind === 'watch').length;
    expect(watches).toBeLessThanOrEqual(10 + 5 * 20);
    w.stop();
    expect(await pull(s, clock, 1_000)).toEqual({ done: true, value: undefined });
    expect(clock.pendingTimers).toBe(0);
  });
});
