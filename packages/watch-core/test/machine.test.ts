// Each transition of the watcher's state machine, with a scripted transport and a manual clock.

import { watchTarget } from '@kwatch/models';
import { ConfigMap } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/backoff.ts';
import type { Clock } from '../src/clock.ts';
import { apiErrorFrom, type KwatchError, TransportError } from '../src/errors.ts';
import { WatchEvent } from '../src/events.ts';
import { type Item, Machine, type MachineConfig, newShared, type Shared, type State } from '../src/machine.ts';
import type { StreamBody, WatchTransport } from '../src/transport.ts';

class ManualClock implements Clock {
  t = 1_000_000;
  timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers.delete(h as number);
  };
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.t) {
        this.timers.delete(id);
        timer.fn();
      }
    }
  }
}

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
  readonly replies: Reply[];
  constructor(replies: Reply[]) {
    this.replies = replies;
  }
  #next(path: string, q: URLSearchParams): Reply {
    this.requests.push(`${path}?${q}`);
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

function setup(replies: Reply[], overrides: Partial<MachineConfig<ConfigMap>> = {}, shared: Shared = newShared(undefined)) {
  const clock = new ManualClock();
  const transport = new ScriptedTransport(replies);
  const controller = new AbortController();
  const hooks = { errors: [] as KwatchError[], bookmarks: [] as string[] };
  const machine = new Machine<ConfigMap>(
    {
      target: watchTarget(ConfigMap, { namespace: 'ns' }),
      transport,
      clock,
      backoff: new Backoff({}, () => 0.5),
      signal: controller.signal,
      manage: true,
      quitOnTimeout: false,
      markers: true,
      startResourceVersion: undefined,
      timeoutSeconds: 290,
      allowWatchBookmarks: true,
      labelSelector: undefined,
      fieldSelector: undefined,
      inactivityTimeoutMs: 5_000,
      maxConsecutiveErrors: Number.POSITIVE_INFINITY,
      maxLineBytes: 1 << 20,
      pageSize: 2,
      watchList: 'auto',
      hooks: { error: (e) => hooks.errors.push(e), bookmark: (b) => hooks.bookmarks.push(b.resourceVersion) },
      decode: (raw) => Object.setPrototypeOf(raw, ConfigMap.prototype) as ConfigMap,
      ...overrides,
    },
    shared,
  );
  return { machine, clock, transport, controller, hooks, shared };
}

const show = (items: Item<ConfigMap>[]) =>
  items.map((i) => (i instanceof WatchEvent ? `${i.type} ${i.object.metadata?.name}${i.synthetic ? '*' : ''}` : i.type));

async function run(m: Machine<ConfigMap>, state: State, steps: number): Promise<{ items: string[]; state: State }> {
  const items: string[] = [];
  for (let i = 0; i < steps; i++) {
    const [out, next] = await m.step(state);
    items.push(...show(out));
    state = next;
  }
  return { items, state };
}

describe('the watcher state machine', () => {
  it('start: managed without resourceVersion syncs; with one, or unmanaged, connects', async () => {
    expect((await setup([]).machine.step({ kind: 'start' }))[1].kind).toBe('sync');
    expect((await setup([], {}, newShared('42')).machine.step({ kind: 'start' }))[1]).toEqual({
      kind: 'connect',
      sync: undefined,
    });
    expect((await setup([], { manage: false }).machine.step({ kind: 'start' }))[1].kind).toBe('connect');
  });

  it('sync by WatchList: initial ADDED events are synthetic, the end bookmark gives SYNCED, then live events', async () => {
    const body = new FakeBody();
    const { machine, transport, shared } = setup([{ stream: body }]);
    body.send(line('ADDED', cm('a', '10')) + line('ADDED', cm('b', '11')) + endBookmark('12') + line('MODIFIED', cm('a', '13')));
    const { items } = await run(machine, { kind: 'start' }, 4);
    expect(items).toEqual(['ADDED a*', 'ADDED b*', 'SYNCED', 'MODIFIED a']);
    expect(transport.requests[0]).toContain('sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=');
    expect(shared.resourceVersion).toBe('13');
    expect(shared.health.state).toBe('watching');
  });

  it('sync by paginated LIST: pages follow the continue token, then the watch starts at the list resourceVersion', async () => {
    const body = new FakeBody();
    const { machine, transport } = setup(
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
      { watchList: false },
    );
    const { items, state } = await run(machine, { kind: 'start' }, 5);
    expect(items).toEqual(['ADDED a*', 'ADDED b*', 'ADDED c*', 'SYNCED']);
    expect(transport.requests[0]).toMatch(/limit=2$/);
    expect(transport.requests[1]).toMatch(/limit=2&continue=next$/);
    expect(transport.requests[2]).toContain('watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion=5');
    expect(state.kind).toBe('watch');
  });

  it('BOOKMARK advances the resourceVersion and calls the hook; nothing is yielded', async () => {
    const body = new FakeBody();
    const { machine, shared, hooks } = setup([{ stream: body }], {}, newShared('1'));
    body.send(line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '99' } }));
    const { items } = await run(machine, { kind: 'start' }, 3);
    expect(items).toEqual([]);
    expect(shared.resourceVersion).toBe('99');
    expect(hooks.bookmarks).toEqual(['99']);
  });

  it('410 when managed: RESYNC, a relist at the last resourceVersion, and a diff that converges', async () => {
    const watch = new FakeBody();
    const after = new FakeBody();
    const shared = newShared(undefined);
    const { machine, transport } = setup(
      [
        { list: { metadata: { resourceVersion: '3' }, items: [cm('keep', '1'), cm('change', '2'), cm('gone', '3')] } },
        { stream: watch },
        { list: { metadata: { resourceVersion: '9' }, items: [cm('keep', '1'), cm('change', '7'), cm('new', '8')] } },
        { stream: after },
      ],
      { watchList: false },
      shared,
    );
    watch.send(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 3 (8)' }));
    // start, sync, list, connect, read (ERROR), sync, list
    const { items, state } = await run(machine, { kind: 'start' }, 7);
    expect(items).toEqual([
      'ADDED keep*',
      'ADDED change*',
      'ADDED gone*',
      'SYNCED',
      'RESYNC',
      'MODIFIED change*',
      'ADDED new*',
      'DELETED gone*',
      'SYNCED',
    ]);
    expect(transport.requests[2]).toContain('resourceVersion=3&resourceVersionMatch=NotOlderThan');
    expect(watch.closed).toBe(true);
    expect(shared.health.relists).toBe(1);
    expect(state).toEqual({ kind: 'connect', sync: undefined });
  });

  it('410 again on the relist at the last resourceVersion: falls back to a consistent read', async () => {
    const gone = apiErrorFrom(410, { kind: 'Status', code: 410, reason: 'Expired' }, 'GET x');
    const { machine, transport } = setup([{ error: gone }, { list: { metadata: { resourceVersion: '9' }, items: [] } }], {
      watchList: false,
    });
    const sync = { initial: false, notOlderThan: '3', objects: 0 };
    const { state } = await run(machine, { kind: 'list', sync, continueToken: undefined }, 3);
    expect(transport.requests[1]).not.toContain('resourceVersion=');
    expect(state.kind).toBe('connect');
  });

  it('410 when unmanaged: a fatal GoneError', async () => {
    const body = new FakeBody();
    const { machine } = setup([{ stream: body }], { manage: false });
    body.send(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }));
    const { state } = await run(machine, { kind: 'start' }, 3);
    expect(state.kind).toBe('fatal');
    await expect(machine.step(state)).rejects.toMatchObject({ code: 'GONE', httpStatus: 410 });
  });

  it('retryable failures back off with growing, jittered delays on the injected clock, then retry', async () => {
    const net = () => new TransportError('NETWORK_ERROR', 'ECONNREFUSED', { retryable: true });
    const body = new FakeBody();
    const { machine, clock, shared } = setup([{ error: net() }, { error: net() }, { stream: body }], {}, newShared('5'));
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
    expect(shared.health.consecutiveErrors).toBe(2);
    state = (await machine.step(state))[1];
    expect(state.kind).toBe('watch');
  });

  it('a Retry-After is a floor for the delay', async () => {
    const { machine } = setup([{ error: apiErrorFrom(429, undefined, 'GET x', '7') }], {}, newShared('5'));
    const [, state] = await machine.step({ kind: 'connect', sync: undefined });
    expect(state).toMatchObject({ kind: 'backoff', delayMs: 7000 });
  });

  it('401 retries at once with fresh credentials, once; 403 is fatal', async () => {
    const unauthorized = () => apiErrorFrom(401, { kind: 'Status', code: 401, reason: 'Unauthorized' }, 'GET x');
    const { machine } = setup([{ error: unauthorized() }, { error: unauthorized() }], {}, newShared('5'));
    let [, state] = await machine.step({ kind: 'connect', sync: undefined });
    expect(state).toEqual({ kind: 'connect', sync: undefined });
    [, state] = await machine.step(state);
    expect(state).toMatchObject({ kind: 'fatal', error: { code: 'UNAUTHORIZED' } });
    const forbidden = setup([{ error: apiErrorFrom(403, undefined, 'GET x') }], {}, newShared('5'));
    expect((await forbidden.machine.step({ kind: 'connect', sync: undefined }))[1]).toMatchObject({ kind: 'fatal' });
  });

  it('a server that refuses WatchList (422) makes the sync fall back to LIST, for good', async () => {
    const { machine, shared } = setup([{ error: apiErrorFrom(422, undefined, 'GET x') }]);
    const [, sync] = await machine.step({ kind: 'start' });
    const [, connect] = await machine.step(sync);
    const [, next] = await machine.step(connect);
    expect(next).toMatchObject({ kind: 'list', continueToken: undefined });
    expect(shared.watchListUnsupported).toBe(true);
  });

  it('a clean end of the stream reconnects at once, or ends with quitOnTimeout', async () => {
    for (const quitOnTimeout of [false, true]) {
      const body = new FakeBody();
      const { machine } = setup([{ stream: body }], { quitOnTimeout }, newShared('5'));
      body.send(null);
      const { state } = await run(machine, { kind: 'connect', sync: undefined }, 2);
      expect(state).toEqual(quitOnTimeout ? { kind: 'done' } : { kind: 'connect', sync: undefined });
    }
  });

  it('the inactivity watchdog closes a silent stream with STALLED and the machine backs off', async () => {
    const body = new FakeBody();
    const { machine, clock, hooks } = setup([{ stream: body }], {}, newShared('5'));
    const [, watching] = await machine.step({ kind: 'connect', sync: undefined });
    const reading = machine.step(watching);
    clock.advance(4_999);
    expect(body.closed).toBe(false);
    clock.advance(1);
    const [, next] = await reading;
    expect(body.closed).toBe(true);
    expect(next.kind).toBe('backoff');
    expect(hooks.errors.map((e) => e.code)).toEqual(['STALLED']);
  });

  it('gives up after maxConsecutiveErrors', async () => {
    const net = new TransportError('NETWORK_ERROR', 'x', { retryable: true });
    const { machine } = setup([{ error: net }, { error: net }], { maxConsecutiveErrors: 1 }, newShared('5'));
    const [, first] = await machine.step({ kind: 'connect', sync: undefined });
    expect(first.kind).toBe('backoff');
    const [, second] = await machine.step({ kind: 'connect', sync: undefined });
    expect(second.kind).toBe('fatal');
  });

  it('an abort during backoff ends at once and leaves no timer', async () => {
    const { machine, clock, controller } = setup([]);
    const sleeping = machine.step({ kind: 'backoff', delayMs: 30_000, next: { kind: 'start' } });
    expect(clock.timers.size).toBe(1);
    controller.abort();
    expect((await sleeping)[1]).toEqual({ kind: 'done' });
    expect(clock.timers.size).toBe(0);
  });

  it('events decoded before a bad line in the same chunk are still delivered', async () => {
    const body = new FakeBody();
    const { machine } = setup([{ stream: body }], {}, newShared('5'));
    body.send(`${line('ADDED', cm('a', '6'))}{"type":"ADDED","object":\n${line('ADDED', cm('b', '7'))}`);
    const { items, state } = await run(machine, { kind: 'connect', sync: undefined }, 2);
    expect(items).toEqual(['ADDED a']);
    expect(state.kind).toBe('backoff');
  });
});
