// ShardRing fencing on fake timers and an in-memory Lease API: request failures, a view that goes stale, clock steps.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiErrorFrom, type HashRange, type KubeClient, ShardRing, TransportError } from '../src/index.ts';
import { intersect } from '../src/sharding/rangeSet.ts';

type Lease = { metadata: { name: string; labels?: Record<string, string> }; spec: Record<string, unknown> };
/** How one replica's requests fare: answered, refused at once, or hung until their deadline. */
type Mode = 'ok' | 'fail' | 'hang';

/** The Lease API of one namespace, in memory, with a latency; each replica's client can fail per verb. */
class LeaseApi {
  readonly leases = new Map<string, Lease>();
  latencyMs = 5;

  client(modes: { patch: Mode; list: Mode }, deadlineMs: number): KubeClient {
    const request = async (r: { method?: string; path: string; body?: unknown; signal?: AbortSignal }): Promise<unknown> => {
      const method = r.method ?? 'GET';
      const mode = method === 'GET' ? modes.list : method === 'DELETE' ? 'ok' : modes.patch;
      if (mode === 'fail') throw new TransportError('NETWORK_ERROR', 'refused');
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, mode === 'hang' ? deadlineMs : this.latencyMs);
        r.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(r.signal?.reason);
        });
      });
      if (mode === 'hang') throw new TransportError('NETWORK_ERROR', 'timed out');
      const name = decodeURIComponent(r.path.split('/leases/')[1] ?? '');
      const body = r.body as Lease;
      switch (method) {
        case 'PATCH': {
          const lease = this.leases.get(name);
          if (!lease) throw apiErrorFrom(404, undefined, 'patch');
          this.leases.set(name, { metadata: { ...lease.metadata, ...body.metadata }, spec: { ...lease.spec, ...body.spec } });
          return {};
        }
        case 'POST':
          if (this.leases.has(body.metadata.name)) throw apiErrorFrom(409, undefined, 'create');
          this.leases.set(body.metadata.name, structuredClone(body));
          return {};
        case 'DELETE':
          this.leases.delete(name);
          return {};
        default:
          return { items: structuredClone([...this.leases.values()]) };
      }
    };
    return { request } as unknown as KubeClient;
  }
}

const D = 20_000;
const I = 2_000;

/** Replicas on one LeaseApi, and a monitor that fails on any hash owned by two at once. */
function cluster() {
  const api = new LeaseApi();
  const rings = new Map<string, { ring: ShardRing; modes: { patch: Mode; list: Mode } }>();
  const add = (identity: string, options: { handoffMs?: number; renewIntervalMs?: number } = {}) => {
    const modes = { patch: 'ok' as Mode, list: 'ok' as Mode };
    const renew = options.renewIntervalMs ?? I;
    const ring = new ShardRing({
      name: 'r',
      namespace: 'ns',
      identity,
      leaseDurationMs: D,
      renewIntervalMs: renew,
      ...(options.handoffMs === undefined ? {} : { handoffMs: options.handoffMs }),
      client: api.client(modes, renew),
    });
    rings.set(identity, { ring, modes });
    return { ring, modes };
  };
  const overlaps: string[] = [];
  const check = () => {
    const all = [...rings.entries()].map(([id, r]) => [id, r.ring.ranges()] as [string, readonly HashRange[]]);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const [a, ra] = all[i] as [string, readonly HashRange[]];
        const [b, rb] = all[j] as [string, readonly HashRange[]];
        if (intersect(ra, rb).length > 0) overlaps.push(`${a} and ${b} at ${Date.now()}`);
      }
    }
  };
  /** Lets `ms` of fake time pass, checking every 50 ms. */
  const pass = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      await vi.advanceTimersByTimeAsync(Math.min(50, ms - t));
      check();
    }
  };
  const stopAll = async () => {
    const stops = [...rings.values()].map((r) => r.ring.stop());
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(stops);
  };
  const ring = (identity: string) => (rings.get(identity) as { ring: ShardRing }).ring;
  return { api, add, pass, overlaps, stopAll, ring };
}

/** Starts a ring on fake time (its first round needs timers to run). */
async function start(ring: ShardRing): Promise<void> {
  const started = ring.start();
  await vi.advanceTimersByTimeAsync(50);
  await started;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ShardRing fencing (fake timers, in-memory Leases)', () => {
  it('a replica whose reads of the ring fail while its renews succeed lets go before a newcomer takes over', async () => {
    const c = cluster();
    const a = c.add('a');
    await start(a.ring);
    await c.pass(4 * I);
    expect(a.ring.ranges().length).toBeGreaterThan(0);
    // a renews its Lease but cannot read the ring: it does not see b join, so it must fence itself.
    a.modes.list = 'fail';
    const b = c.add('b');
    await start(b.ring);
    await c.pass(10 * I);
    expect(b.ring.ranges().length).toBeGreaterThan(0);
    expect(c.overlaps).toEqual([]);
    // a reads again: it owns its part again (after a hand-off).
    a.modes.list = 'ok';
    await c.pass(6 * I);
    expect(a.ring.ranges().length).toBeGreaterThan(0);
    expect(c.overlaps).toEqual([]);
    await c.stopAll();
  });

  it('a replica whose reads hang until their deadline lets go before a newcomer takes over, with a short hand-off', async () => {
    const c = cluster();
    const a = c.add('a', { renewIntervalMs: 1000 }); // lease 20 s, renew 1 s: hand-off 3 s, far below the lease
    await start(a.ring);
    await c.pass(5000);
    a.modes.list = 'hang';
    const b = c.add('b', { renewIntervalMs: 1000 });
    await start(b.ring);
    await c.pass(10_000);
    expect(b.ring.ranges().length).toBeGreaterThan(0);
    expect(c.overlaps).toEqual([]);
    await c.stopAll();
  });

  it('a step of the wall clock (NTP, a resumed VM) neither expires the others nor shortens a hand-off', async () => {
    const c = cluster();
    const a = c.add('a');
    const b = c.add('b');
    await start(a.ring);
    await start(b.ring);
    await c.pass(4 * I);
    expect(a.ring.ranges().length).toBeGreaterThan(0);
    expect(b.ring.ranges().length).toBeGreaterThan(0);
    vi.setSystemTime(Date.now() + 2 * D); // the wall clock jumps; timers and the monotonic clock do not
    await c.pass(4 * I);
    expect(c.overlaps).toEqual([]);
    expect(a.ring.members()).toEqual(['a', 'b']);
    // A join right after a step forward: the newcomer's range is still handed off, not taken at once.
    const cc = c.add('c');
    await start(cc.ring);
    vi.setSystemTime(Date.now() + 2 * D);
    await c.pass(4 * I);
    expect(c.overlaps).toEqual([]);
    await c.stopAll();
  });

  it('random failures, hangs, joins and stops never give a hash two owners', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('mode' as const),
              who: fc.integer({ min: 0, max: 3 }),
              verb: fc.constantFrom('patch' as const, 'list' as const),
              mode: fc.constantFrom<Mode>('ok', 'fail', 'hang'),
            }),
            fc.record({ op: fc.constant('toggle' as const), who: fc.integer({ min: 0, max: 3 }) }),
            fc.record({ op: fc.constant('pass' as const), ms: fc.integer({ min: 0, max: 3 * I }) }),
          ),
          { maxLength: 25 },
        ),
        async (ops) => {
          const c = cluster();
          const ids = ['a', 'b', 'c', 'd'];
          const replicas = ids.map((id) => c.add(id));
          const running = new Set<number>();
          for (const o of ops) {
            if (o.op === 'pass') {
              await c.pass(o.ms);
              continue;
            }
            const r = replicas[o.who] as (typeof replicas)[number];
            if (o.op === 'mode') r.modes[o.verb] = o.mode;
            else {
              if (running.has(o.who)) {
                running.delete(o.who);
                const stopped = r.ring.stop();
                await c.pass(100);
                await stopped;
              } else {
                running.add(o.who);
                const started = r.ring.start().catch(() => running.delete(o.who));
                await c.pass(100);
                await started;
              }
            }
          }
          await c.pass(2 * D);
          expect(c.overlaps).toEqual([]);
          await c.stopAll();
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('ShardRing start and stop', () => {
  it('a first round that fails for a while (retryable) does not fail start(): the ring joins once requests work', async () => {
    const c = cluster();
    const a = c.add('a');
    a.modes.patch = 'fail';
    await start(a.ring);
    expect(a.ring.ranges()).toEqual([]);
    a.modes.patch = 'ok';
    await c.pass(6 * I);
    expect(a.ring.members()).toEqual(['a']);
    expect(a.ring.ranges().length).toBeGreaterThan(0);
    await c.stopAll();
  });

  it('a first round refused for good (403) fails start() with the ApiError', async () => {
    const api = new LeaseApi();
    const client = {
      request: async () => {
        throw apiErrorFrom(403, undefined, 'patch');
      },
    } as unknown as KubeClient;
    const ring = new ShardRing({ name: 'r', namespace: 'ns', identity: 'a', leaseDurationMs: D, client });
    await expect(ring.start()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(api.leases.size).toBe(0);
  });

  it('start(), stop(), start() in one go: the ring runs, its Lease is there', async () => {
    const c = cluster();
    const a = c.add('a');
    const first = a.ring.start().catch((e: unknown) => e);
    const stopped = a.ring.stop();
    const second = a.ring.start();
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, stopped, second]);
    await c.pass(6 * I);
    expect([...c.api.leases.keys()]).toEqual(['r-a']);
    expect(a.ring.ranges().length).toBeGreaterThan(0);
    await c.stopAll();
    expect(c.api.leases.size).toBe(0);
  });

  it('stop() during start(): start() resolves, nothing runs, no Lease is left', async () => {
    const c = cluster();
    const a = c.add('a');
    const started = a.ring.start();
    const stopped = a.ring.stop();
    await vi.advanceTimersByTimeAsync(100);
    await expect(started).resolves.toBeUndefined();
    await stopped;
    await c.pass(3 * I);
    expect(c.api.leases.size).toBe(0);
    expect(a.ring.ranges()).toEqual([]);
  });
});

describe('ShardRing: a lone replica', () => {
  const whole = (rs: readonly HashRange[]) => rs.length === 1 && rs[0]?.start === 0n && rs[0]?.end === 1n << 64n;

  it('owns everything after two rounds when no other Lease exists; with a dead one’s Lease left, after the hand-off', async () => {
    const c = cluster();
    const a = c.add('a');
    await start(a.ring);
    expect(a.ring.ranges()).toEqual([]); // one read alone is not enough (another may be starting)
    await c.pass(I + 100);
    expect(whole(a.ring.ranges())).toBe(true); // the second: one renew interval, not the 3 × renew hand-off
    // b crashes (its Lease stays): a newcomer cannot tell from an expired Lease alone that nobody owns its part.
    const b = c.add('b');
    await start(b.ring);
    await c.pass(4 * I);
    const stopped = Promise.all([b.ring.stop({ crash: true }), a.ring.stop()]);
    await vi.advanceTimersByTimeAsync(100);
    await stopped;
    await c.pass(D + I); // b's Lease has expired, but it is still there
    const n = c.add('n');
    await start(n.ring);
    expect(n.ring.ranges()).toEqual([]);
    await c.pass(3 * I + 100);
    expect(whole(n.ring.ranges())).toBe(true);
    expect(c.overlaps).toEqual([]);
    await c.stopAll();
  });

  it('replicas starting together (random offsets and latencies) never own a hash twice, nor one everything', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 30 }),
        async (offsets, latency) => {
          const c = cluster();
          c.api.latencyMs = latency;
          const started = offsets.map(async (offset, i) => {
            const r = c.add(`s${i}`);
            if (offset > 0) await new Promise((resolve) => setTimeout(resolve, offset));
            await r.ring.start();
          });
          await c.pass(200); // checked every 50 ms: an overlap would last until the next round (2 s)
          await Promise.all(started);
          // None of them owns the whole space at any time: that would be a sync of everything, handed off again.
          for (let t = 0; t < 4 * I; t += 50) {
            await c.pass(50);
            for (const i of offsets.keys()) expect(whole(c.ring(`s${i}`).ranges())).toBe(false);
          }
          expect(c.overlaps).toEqual([]);
          await c.stopAll();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('ShardRing: identities that normalise alike', () => {
  it('get Leases of their own, so neither thinks it is alone and no hash has two owners', async () => {
    const c = cluster();
    const ids = ['A', 'a', 'pod_1', 'pod-1'];
    const rings = ids.map((id) => c.add(id));
    await Promise.all(rings.map((r) => start(r.ring)));
    await c.pass(4 * I);
    expect(c.api.leases.size).toBe(4);
    for (const r of rings) expect(r.ring.members()).toEqual([...ids].sort());
    expect(c.overlaps).toEqual([]);
    await c.stopAll();
  });
});
